#!/usr/bin/env node
// The `fastts` executable. Installed from npm it runs the built CLI (dist/cli.js). In a source checkout right
// after `npm ci` nothing is built yet: it builds the CLI and the packages it needs once (turbo, output on stderr),
// then runs it — so `npx fastts` works before and after `npx turbo run build`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(pkg, 'dist', 'cli.js');
if (!existsSync(cli)) {
  const root = join(pkg, '..', '..');
  if (!existsSync(join(root, 'turbo.json'))) {
    process.stderr.write(`fastts: ${cli} is missing: reinstall fastts\n`);
    process.exit(1);
  }
  process.stderr.write(
    'fastts: first run in this checkout: building the CLI and its packages (npx turbo run build --filter=fastts)...\n',
  );
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
  const built = spawnSync(npx, ['turbo', 'run', 'build', '--filter=fastts', '--output-logs=errors-only'], {
    cwd: root,
    stdio: ['ignore', 2, 2],
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
  if (built.status !== 0 || !existsSync(cli)) {
    process.stderr.write('fastts: the build failed: run `npx turbo run build --filter=fastts` to see why\n');
    process.exit(1);
  }
}
await import(pathToFileURL(cli).href);

/**
 * A new app that installed fastts from `npm pack` tarballs, as a user's project would — built offline.
 *
 * The workspaces are packed (`npm pack`), then a fresh folder gets a `package.json` depending on the tarballs and a
 * `package-lock.json` whose third-party entries are copied from the repository's lock (same versions, URLs and
 * integrity hashes); `npm ci --offline` then installs from npm's cache, which the repository's own `npm ci` filled.
 * No request reaches the network, and what is tested is exactly what would be published: the tarballs' files,
 * `exports` and dependencies.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './shared.js';

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optional?: boolean;
  dev?: boolean;
  [k: string]: unknown;
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * The registry URL of a package's tarball. The repository's lock records only integrity hashes; with the URL too,
 * `npm ci --offline` takes each tarball from the cache by its hash without asking for the package's metadata.
 */
function registryTarball(name: string, version: string): string {
  return `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${version}.tgz`;
}

/**
 * Adds each registry package's tarball URL to a `package-lock.json` that lacks them (npm's
 * `omit-lockfile-registry-resolved`), so that `npm ci --offline` installs it from the cache by integrity alone.
 * The versions and hashes stay as they are.
 */
export function addRegistryUrls(lockFile: string): void {
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as { packages: Record<string, LockEntry> };
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key.includes('node_modules/') || entry.link || entry.resolved || !entry.integrity || !entry.version) continue;
    entry.resolved = registryTarball(key.slice(key.lastIndexOf('node_modules/') + 13), entry.version);
  }
  writeFileSync(lockFile, `${JSON.stringify(lock, null, 2)}\n`);
}

const run = promisify(execFile);

/** Packs workspaces into `dir`; returns `{ name, file }` per workspace. */
export async function packWorkspaces(workspaces: string[], dir: string): Promise<Array<{ name: string; file: string }>> {
  mkdirSync(dir, { recursive: true });
  const { stdout: out } = await run(npm, ['pack', '--json', ...workspaces.flatMap((w) => ['-w', w]), '--pack-destination', dir], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  return (JSON.parse(out) as Array<{ name: string; filename: string }>).map((p) => ({
    name: p.name,
    file: join(dir, p.filename),
  }));
}

/**
 * Creates `appDir` with the tarballs as its dependencies and installs them offline (`npm ci --offline`).
 * Returns the app folder.
 */
export async function installPackedApp(appDir: string, tarballs: Array<{ name: string; file: string }>): Promise<string> {
  mkdirSync(appDir, { recursive: true });
  const rootLock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const all = rootLock.packages;
  const deps = Object.fromEntries(tarballs.map((t) => [t.name, `file:${t.file}`]));
  const packages: Record<string, LockEntry> = { '': { name: 'fastts-packed-app', dependencies: deps } as LockEntry };

  // The closure of the tarballs' dependencies, resolved as npm does: nested under the dependent, else hoisted.
  const queue: Array<[string, Record<string, string>, Record<string, string>]> = [];
  for (const t of tarballs) {
    const manifest = JSON.parse(
      execFileSync('tar', ['-xOzf', t.file, 'package/package.json'], { encoding: 'utf8' }),
    ) as LockEntry & {
      name: string;
    };
    const integrity = `sha512-${createHash('sha512').update(readFileSync(t.file)).digest('base64')}`;
    const entry: LockEntry = {
      version: manifest.version!,
      resolved: `file:${t.file}`,
      integrity,
      ...(manifest.dependencies ? { dependencies: manifest.dependencies } : {}),
      ...(manifest.optionalDependencies ? { optionalDependencies: manifest.optionalDependencies } : {}),
    };
    packages[`node_modules/${t.name}`] = entry;
    queue.push([`node_modules/${t.name}`, manifest.dependencies ?? {}, manifest.optionalDependencies ?? {}]);
  }
  const local = new Set(tarballs.map((t) => t.name));
  while (queue.length > 0) {
    const [from, required, optional] = queue.shift()!;
    for (const [name, isOptional] of [
      ...Object.keys(required).map((n) => [n, false] as const),
      ...Object.keys(optional).map((n) => [n, true] as const),
    ]) {
      if (local.has(name)) continue;
      let key: string | undefined;
      for (let at = from; ; at = at.slice(0, at.lastIndexOf('/node_modules/'))) {
        const candidate = `${at}/node_modules/${name}`;
        if (all[candidate] && !all[candidate]!.link) {
          key = candidate;
          break;
        }
        if (!at.includes('/node_modules/')) break;
      }
      key ??= all[`node_modules/${name}`] ? `node_modules/${name}` : undefined;
      if (!key) {
        if (isOptional) continue; // an optional dependency the repository never installed (e.g. tfjs-node-gpu)
        throw new Error(`packed app: ${name} (needed by ${from}) is not in the repository's package-lock.json`);
      }
      if (packages[key]) continue;
      const { dev: _dev, devOptional: _devOptional, ...entry } = all[key]!;
      packages[key] = {
        ...entry,
        resolved: entry.resolved ?? registryTarball(key.slice(key.lastIndexOf('node_modules/') + 13), entry.version!),
      } as LockEntry;
      queue.push([key, all[key]!.dependencies ?? {}, all[key]!.optionalDependencies ?? {}]);
    }
  }
  writeFileSync(
    join(appDir, 'package.json'),
    `${JSON.stringify({ name: 'fastts-packed-app', private: true, type: 'module', dependencies: deps }, null, 2)}\n`,
  );
  writeFileSync(
    join(appDir, 'package-lock.json'),
    `${JSON.stringify({ name: 'fastts-packed-app', lockfileVersion: 3, requires: true, packages }, null, 2)}\n`,
  );
  await run(npm, ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: appDir,
    maxBuffer: 64 * 1024 * 1024,
  });
  return appDir;
}

/**
 * Right after `npm ci` on a clean clone, `npx fastts --help` works: the `fastts` bin is a committed file (npm links
 * it at install time), which builds the CLI on its first run in a source checkout. The clone is of the committed
 * HEAD (what CI tests); `npm ci --offline` installs from npm's cache, which the repository's own `npm ci` filled
 * (the lock gets each tarball's registry URL first, so that no package metadata is asked for).
 */
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { addRegistryUrls } from '../../test-support/packed-app.js';
import { REPO_ROOT } from '../../test-support/shared.js';

const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'fastts-clone-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs a command to its end, never throwing: its exit code and output. */
async function attempt(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 900_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? String(e) };
  }
}

describe('a clean clone', () => {
  it('runs `npx fastts --help` right after `npm ci`, and again once built', async () => {
    const clone = join(tmp, 'fastts');
    await run('git', ['clone', '--quiet', '--no-hardlinks', REPO_ROOT, clone]);
    addRegistryUrls(join(clone, 'package-lock.json')); // same versions and hashes: lets --offline skip metadata
    await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: clone, maxBuffer: 64 * 1024 * 1024 });
    expect(lstatSync(join(clone, 'node_modules', '.bin', 'fastts')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(clone, 'apps', 'cli', 'dist'))).toBe(false);

    const first = await attempt('npx', ['fastts', '--help'], clone);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Usage: fastts \[options\] \[command\]/);
    expect(first.stdout).toContain('dashboard [options]');
    expect(first.stderr).toContain('building the CLI');

    const second = await attempt('npx', ['fastts', '--version'], clone);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(second.stderr).not.toContain('building');
  }, 1_200_000);
});

/**
 * Right after `npm ci` on a clean clone, `npx fastts --help` works: the `fastts` bin is a committed file (npm links
 * it at install time), which builds the CLI on its first run in a source checkout. The clone is of the committed
 * HEAD (what CI tests); `npm ci --offline` installs from npm's cache, which the repository's own `npm ci` filled.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../test-support/shared.js';

const tmp = mkdtempSync(join(tmpdir(), 'fastts-clone-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('a clean clone', () => {
  it('runs `npx fastts --help` right after `npm ci`, and again once built', () => {
    const clone = join(tmp, 'fastts');
    execFileSync('git', ['clone', '--quiet', '--no-hardlinks', REPO_ROOT, clone], { stdio: 'pipe' });
    execFileSync('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: clone, stdio: 'pipe', env: { ...process.env, CI: 'true' } });
    expect(lstatSync(join(clone, 'node_modules', '.bin', 'fastts')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(clone, 'apps', 'cli', 'dist'))).toBe(false);

    const first = spawnSync('npx', ['fastts', '--help'], { cwd: clone, encoding: 'utf8', timeout: 900_000 });
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^Usage: fastts \[options\] \[command\]/);
    expect(first.stdout).toContain('dashboard [options]');
    expect(first.stderr).toContain('building the CLI');

    const second = spawnSync('npx', ['fastts', '--version'], { cwd: clone, encoding: 'utf8', timeout: 120_000 });
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(second.stderr).not.toContain('building');
  }, 1_200_000);
});

/**
 * A stranger's first run: no `../shared`, an empty `FASTTS_HOME`, the internet stood in for by a mirror on
 * 127.0.0.1 (`FASTTS_MIRROR`) that serves GitHub's archive of doraemon-walle (rebuilt from the shared copy in the
 * upstream layout) and the MobileNet weight files at their canonical URLs. The tutorial — the same code path as
 * `npm run tutorial`, with a small architecture and size to fit CI's time — downloads both with progress, trains to
 * its accuracy; a second run makes no request at all.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDoraemonWalleArchive, startMirror, type DoraemonWalleArchive, type Mirror } from '../../test-support/mirror.js';
import { REPO_ROOT, SHARED_DIR, requireShared } from '../../test-support/shared.js';

const MOBILENET = 'storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.25_224/';
const tmp = mkdtempSync(join(tmpdir(), 'fastts-first-run-'));
const home = join(tmp, 'home');
let mirror: Mirror;
let archive: DoraemonWalleArchive;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  summary: { arch: string; frozenAccuracy: number; finalAccuracy: number; testAfter: Array<{ correct: boolean }> };
}

function tutorial(out: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      FASTTS_HOME: home,
      FASTTS_MIRROR: mirror.url,
      FASTTS_SHARED: join(tmp, 'no-shared'),
    };
    delete env.FASTTS_OFFLINE;
    const args = [
      '--import',
      'tsx',
      join(REPO_ROOT, 'examples', 'tutorial.ts'),
      '--arch',
      'mobilenet_v1_0.25_224',
      '--size',
      '128',
      '--bs',
      '16',
      '--epochs',
      '1',
      '--out',
      out,
      '--json',
    ];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      resolve({ code, stdout, stderr, summary: JSON.parse(last.startsWith('{') ? last : '{}') as Run['summary'] });
    });
  });
}

beforeAll(async () => {
  requireShared();
  archive = await buildDoraemonWalleArchive();
  mirror = await startMirror({ [archive.url]: archive.file, [MOBILENET]: join(SHARED_DIR, 'models', 'mobilenet_v1_0.25_224') });
}, 120_000);

afterAll(async () => {
  await mirror?.close();
  archive?.remove();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the tutorial on a machine without ../shared (a mirror on 127.0.0.1 as the internet)', () => {
  let first: Run;

  it('downloads the data set and the weights with progress, then trains to its accuracy', async () => {
    first = await tutorial(join(tmp, 'run1'));
    expect(first.code, `stderr:\n${first.stderr}\nstdout:\n${first.stdout}`).toBe(0);
    expect(first.stderr).toMatch(
      /fastts: downloading doraemon-walle\S* \(\d+\.\d MB\) from http:\/\/127\.0\.0\.1:\d+\/codeload\.github\.com\//,
    );
    expect(first.stderr).toMatch(/fastts: downloading mobilenet_v1_0\.25_224\/model\.json/);
    expect(mirror.count(archive.url)).toBe(1);
    expect(mirror.requests.filter((r) => r.key.startsWith(MOBILENET)).length).toBeGreaterThan(10); // model.json + shards
    expect(existsSync(join(home, 'data', 'doraemon-walle', 'train', 'walle'))).toBe(true);
    expect(existsSync(join(home, 'models', 'mobilenet_v1_0.25_224', 'model.json'))).toBe(true);
    expect(first.stdout).toContain(`DataBunch (${join(home, 'data', 'doraemon-walle')})`);
    expect(first.summary.arch).toBe('mobilenet_v1_0.25_224');
    expect(first.summary.finalAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(first.summary.testAfter.filter((r) => r.correct).length).toBeGreaterThanOrEqual(5);
  }, 1_200_000);

  it('makes no request at all the second time', async () => {
    const before = mirror.count();
    const second = await tutorial(join(tmp, 'run2'));
    expect(second.code, second.stderr).toBe(0);
    expect(mirror.count()).toBe(before);
    expect(second.stderr).not.toContain('downloading');
    expect(second.summary.finalAccuracy).toBeGreaterThanOrEqual(0.9);
  }, 1_200_000);
});

/**
 * The tutorial's recipe end to end at reduced cost, run as users run it (`tsx examples/tutorial.ts`):
 * doraemon-walle, MobileNet v1 0.25 at 128 px, one frozen one-cycle epoch, interpretation, test predictions,
 * unfreeze + one-cycle with slice(1e-5, 3e-4), export. Asserts fast.ai's epoch table, a real accuracy bar,
 * the interpretation output and files, and the test predictions with their file names.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, DORAEMON_WALLE, WEIGHTS_HOME, requireShared } from '../../test-support/shared.js';

interface Summary {
  arch: string;
  frozenAccuracy: number;
  finalAccuracy: number;
  testBefore: { file: string; label: string; probability: number; correct: boolean }[];
  testAfter: { file: string; label: string; probability: number; correct: boolean }[];
  mostConfused: [string, string, number][];
  seconds: { total: number };
}

const out = mkdtempSync(join(tmpdir(), 'fastts-recipe-'));
let stdout = '';
let stderr = '';
let code: number | null = null;
let summary: Summary;

function runTutorial(args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'examples', 'tutorial.ts'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, FASTTS_HOME: WEIGHTS_HOME, FASTTS_OFFLINE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
}

beforeAll(async () => {
  requireShared();
  code = await runTutorial([
    '--arch',
    'mobilenet_v1_0.25_224',
    '--size',
    '128',
    '--bs',
    '16',
    '--epochs',
    '1',
    '--data',
    DORAEMON_WALLE,
    '--out',
    out,
    '--json',
  ]);
  const last = stdout.trim().split('\n').pop() ?? '';
  summary = JSON.parse(last.startsWith('{') ? last : '{}') as Summary;
}, 1_200_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run tutorial (reduced: mobilenet_v1_0.25_224, 128 px)', () => {
  it('finishes', () => {
    expect(code, `stderr:\n${stderr}\nstdout:\n${stdout}`).toBe(0);
  });

  it("prints fast.ai's epoch table for the frozen and the unfrozen fit", () => {
    const header = 'epoch     train_loss  valid_loss  accuracy  time';
    expect(stdout.split('\n').filter((l) => l === header)).toHaveLength(2);
    const rows = stdout.split('\n').filter((l) => /^0 {9}\d+\.\d{6} {4}\d+\.\d{6} {4}[01]\.\d{6}  \d\d:\d\d$/.test(l));
    expect(rows).toHaveLength(2);
  });

  it('reaches valid accuracy >= 0.9 after fine-tuning (and learns in the frozen epoch already)', () => {
    // MobileNet v1 0.25 at 128 px is far weaker than the tutorial's ResNet: 0.94 after each phase in our runs,
    // one image above the bar; the frozen epoch is held to a looser bar because its head starts from random.
    expect(summary.frozenAccuracy).toBeGreaterThanOrEqual(0.8);
    expect(summary.finalAccuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('prints the interpretation and writes its plots', () => {
    expect(stdout).toContain('interp.most_confused(min_val=1):');
    expect(stdout).toMatch(
      /interp\.confusion_matrix\(\)[^\n]*\n\s+doraemon\s+walle\n\s+doraemon\s+\d+\s+\d+\n\s+walle\s+\d+\s+\d+/,
    );
    const top = stdout.split('interp.top_losses(9):\n')[1]!.split('\n').slice(0, 9);
    for (const l of top)
      expect(l).toMatch(/^\s+(doraemon|walle)\.\d+\.jpg\s+(doraemon|walle)\/(doraemon|walle) \/ \d+\.\d\d \/ [01]\.\d\d$/);
    for (const f of ['top_losses.png', 'confusion_matrix.png', 'batch.png']) {
      const png = readFileSync(join(out, f));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(png.readUInt32BE(16)).toBeGreaterThan(200); // width
    }
  });

  it('predicts the 6 test images with their file names', () => {
    expect(summary.testAfter.map((r) => r.file).sort()).toEqual([
      'doraemon.113.jpg',
      'doraemon.123.jpg',
      'doraemon.137.jpg',
      'walle.113.jpg',
      'walle.123.jpg',
      'walle.137.jpg',
    ]);
    for (const r of summary.testAfter)
      expect(stdout).toContain(`  ${r.file.padEnd(18)} ${r.label.padEnd(10)} ${r.probability.toFixed(4)}`);
    expect(summary.testAfter.filter((r) => r.correct).length).toBeGreaterThanOrEqual(5);
  });

  it('exports the model and saves the stage-1 checkpoint', () => {
    expect(readFileSync(join(out, 'export.safetensors')).length).toBeGreaterThan(1_000_000);
    expect(readFileSync(join(out, 'models', 'stage-1.safetensors')).length).toBeGreaterThan(1_000_000);
  });
});

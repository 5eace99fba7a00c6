/**
 * One seed drives a whole run: the split, the shuffles, the augmentation, the head's initialization and dropout
 * (in the data-parallel workers too). The same `fastts train --seed` twice on the same backend writes the same
 * metrics.jsonl (every field but the wall-clock `seconds`) and a byte-identical batches.jsonl; another seed does not.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DORAEMON_WALLE, requireShared } from '../../test-support/shared.js';
import { runCli } from './run-cli.js';

const TMP = mkdtempSync(join(tmpdir(), 'fastts-e2e-seed-'));

/** `fastts train` on the tutorial's data, small and fast (1 frozen + 1 unfrozen epoch at 64 px), into `out`. */
async function train(seed: number, out: string): Promise<void> {
  const args = [
    'train',
    DORAEMON_WALLE,
    '--arch',
    'mobilenet_v1_0.25_224',
    '--size',
    '64',
    '--bs',
    '32',
    '--epochs',
    '1',
    '--unfreeze-epochs',
    '1',
  ];
  const r = await runCli([...args, '--seed', String(seed), '--out', join(TMP, out)], { cwd: TMP });
  if (r.code !== 0) throw new Error(`fastts train --seed ${seed} failed (${r.code}):\n${r.stderr}`);
}

/** metrics.jsonl with the wall-clock seconds blanked (the one field that cannot repeat). */
const metrics = (run: string): string =>
  readFileSync(join(TMP, run, 'metrics.jsonl'), 'utf8').replace(/"seconds":[0-9.e+-]+/g, '"seconds":0');
const batches = (run: string): string => readFileSync(join(TMP, run, 'batches.jsonl'), 'utf8');

beforeAll(async () => {
  requireShared();
  await train(7, 'a');
  await train(7, 'b');
  await train(8, 'c');
}, 900_000);
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe('fastts train --seed', () => {
  it('the same seed twice writes the same metrics.jsonl (but for seconds) and a byte-identical batches.jsonl', () => {
    expect(metrics('a').split('\n').filter(Boolean)).toHaveLength(2);
    expect(metrics('b')).toBe(metrics('a'));
    expect(batches('b')).toBe(batches('a'));
    expect(readFileSync(join(TMP, 'b', 'test_predictions.csv'), 'utf8')).toBe(
      readFileSync(join(TMP, 'a', 'test_predictions.csv'), 'utf8'),
    );
  });

  it('another seed gives another run', () => {
    expect(metrics('c')).not.toBe(metrics('a'));
    expect(batches('c')).not.toBe(batches('a'));
  });
});

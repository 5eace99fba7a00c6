/**
 * Nothing lost when a run is killed hard: `fastts train` (4 epochs) SIGKILLed in the middle of epoch 3 leaves the
 * checkpoint of epoch 2; the run reads as interrupted (its process is gone) for the CLI and for the dashboard's
 * index; `fastts train --resume` finishes it with epochs 1-2 kept from the first process — metrics.jsonl holds each
 * epoch once, in order, and batches.jsonl counts on without a gap or a repeat.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideStatus } from '../../apps/web/src/server/runStatus.js';
import { DORAEMON_WALLE, requireShared } from '../../test-support/shared.js';
import { collect, lines, runCli, startCli } from './run-cli.js';

const TMP = mkdtempSync(join(tmpdir(), 'fastts-e2e-kill-'));
const RUN = join(TMP, 'run');

beforeAll(() => requireShared());
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const jsonl = (file: string): Array<Record<string, unknown>> =>
  existsSync(join(RUN, file))
    ? lines(readFileSync(join(RUN, file), 'utf8')).map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];

describe('a run killed with SIGKILL', () => {
  it('resumes from its last epoch checkpoint: epochs 1-2 kept, each epoch logged once', async () => {
    // 2 frozen + 2 unfrozen epochs; the kill lands in epoch 3 (the first unfrozen one).
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
      '2',
      '--unfreeze-epochs',
      '2',
      '--seed',
      '3',
      '--backend',
      'wasm',
      '--out',
      RUN,
    ];
    const child = startCli(args, { cwd: TMP });
    const done = collect(child);
    const nIter = Math.floor(279 / 32); // batches per epoch: 279 training images, the last partial batch dropped (fast.ai)
    await waitFor(
      () => jsonl('metrics.jsonl').length >= 2 && jsonl('batches.jsonl').filter((b) => b.phase === 'unfrozen').length >= 3,
      600_000,
      'two finished epochs and three batches of the third',
    );
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');

    // What the dead process left: status.json still says running, for a pid that is gone, and the epoch-2 checkpoint.
    const status = JSON.parse(readFileSync(join(RUN, 'status.json'), 'utf8')) as Record<string, unknown>;
    expect(status.status).toBe('running');
    expect(status.resume).toMatchObject({ phase: 'frozen', epoch: 2 });
    expect(readdirSync(join(RUN, 'checkpoints'))).toEqual(['epoch-2.safetensors']);
    expect(decideStatus(status, false, Date.now(), Date.now()).status).toBe('interrupted'); // the dashboard's view
    const before = jsonl('batches.jsonl');
    expect(before.length).toBeGreaterThan(2 * nIter); // the third epoch's batches were logged before the kill

    const resumed = await runCli(['train', '--resume', RUN, '--backend', 'wasm', '--json'], { cwd: TMP });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming: .*\(its process \d+ is gone/);
    expect(resumed.stderr).not.toMatch(/^\s+at /m);

    const metrics = jsonl('metrics.jsonl').map((m) => [m.phase, m.epoch]);
    expect(metrics).toEqual([
      ['frozen', 0],
      ['frozen', 1],
      ['unfrozen', 0],
      ['unfrozen', 1],
    ]);
    const result = JSON.parse(resumed.stdout) as { epochs: Array<{ phase: string; epoch: number }> };
    expect(result.epochs.map((e) => [e.phase, e.epoch])).toEqual(metrics);
    const iters = jsonl('batches.jsonl').map((b) => b.iter);
    expect(iters).toEqual(Array.from({ length: iters.length }, (_, i) => i));
    expect(iters.length).toBe(4 * nIter);
    // epochs 1-2 are the first process's lines, untouched
    expect(jsonl('batches.jsonl').slice(0, 2 * nIter)).toEqual(before.slice(0, 2 * nIter));
    expect(existsSync(join(RUN, 'model', 'export.safetensors'))).toBe(true);
    expect(JSON.parse(readFileSync(join(RUN, 'status.json'), 'utf8'))).toMatchObject({ status: 'finished' });
  }, 1_200_000);
});

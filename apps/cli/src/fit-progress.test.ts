import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Learner } from '@fastts/node-gpu';
import { fitProgress, RunLogCallback } from './fit-progress.js';
import { Reporter } from './output.js';
import { memoryIo } from './test/memory-io.js';

const tmp = mkdtempSync(join(tmpdir(), 'fastts-cli-fit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The parts of a Learner the run log reads. */
function fakeLearner(over: Record<string, unknown>): Learner {
  return {
    training: true,
    epoch: 0,
    loss: 0.5,
    recorder: { lrs: [[1e-4, 1e-3]], losses: [0.5], moms: [0.95], lastRow: undefined },
    ...over,
  } as unknown as Learner;
}

describe('RunLogCallback', () => {
  it('appends batches.jsonl per training batch and metrics.jsonl per epoch', () => {
    const log = new RunLogCallback({ runDir: tmp, phase: 'unfrozen', iterOffset: 10 });
    log.afterBatch(fakeLearner({}));
    log.afterBatch(fakeLearner({ training: false })); // validation batches are not logged
    log.afterBatch(fakeLearner({ epoch: 1, recorder: { lrs: [[2e-4, 2e-3]], losses: [0.25], moms: [0.9] } }));
    const row = { epoch: 1, trainLoss: 0.3, validLoss: 0.2, metrics: { accuracy: 0.9, error_rate: 0.1 }, seconds: 12.3456 };
    log.afterEpoch(fakeLearner({ recorder: { lastRow: row } }));
    const batches = readFileSync(join(tmp, 'batches.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(batches).toEqual([
      { iter: 10, epoch: 0, phase: 'unfrozen', loss: 0.5, lr: 1e-3, lrs: [1e-4, 1e-3], mom: 0.95 },
      { iter: 11, epoch: 1, phase: 'unfrozen', loss: 0.25, lr: 2e-3, lrs: [2e-4, 2e-3], mom: 0.9 },
    ]);
    expect(log.iters).toBe(2);
    const metrics = readFileSync(join(tmp, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics).toEqual([
      { epoch: 1, phase: 'unfrozen', train_loss: 0.3, valid_loss: 0.2, accuracy: 0.9, error_rate: 0.1, seconds: 12.346 },
    ]);
  });
});

describe('fitProgress', () => {
  it('prints the table header and one line per epoch on the human channel, no bar off a terminal', () => {
    const io = memoryIo();
    const report = fitProgress(new Reporter(io), 'frozen');
    report({ type: 'begin', names: [], header: 'epoch     train_loss', nEpoch: 1 });
    report({ type: 'batch', phase: 'train', epoch: 0, nEpoch: 1, iter: 0, nIter: 4, loss: 1 });
    report({
      type: 'epoch',
      row: { epoch: 0, trainLoss: 1, validLoss: 1, metrics: {}, seconds: 1 },
      cells: [],
      line: '0         1.000000',
    });
    report({ type: 'end', rows: [] });
    expect(io.stdout.text).toBe('\nepoch     train_loss\n0         1.000000\n');
    expect(io.stderr.text).toBe('');
  });

  it('moves the table to stderr under --json', () => {
    const io = memoryIo();
    const report = fitProgress(new Reporter(io, { json: true }), 'frozen');
    report({ type: 'begin', names: [], header: 'epoch', nEpoch: 1 });
    expect(io.stdout.text).toBe('');
    expect(io.stderr.text).toBe('\nepoch\n');
  });
});

/**
 * The run format's contract: a run written by the CLI's writers (apps/cli/src/run-dir.ts, on @fastts/core/runs) is
 * read back by the dashboard's reader (apps/web/src/server/runs.ts) field for field — config, status, the epoch
 * table, the live curves, the interpretation, the test predictions and the model — and a browser-saved run
 * (the upload's writer) reads the same way.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_FORMAT_VERSION, type BatchLine, type Interpretation, type MetricsLine } from '@fastts/core/runs';
import {
  appendJsonLine,
  MetricsLog,
  predictionsCsv,
  RUN_FILES,
  RunStatusFile,
  writeJson,
  writeRunConfig,
} from '../../apps/cli/src/run-dir.js';
import type { TrainConfig } from '../../apps/cli/src/train/config.js';
import { readRun } from '../../apps/web/src/server/runs.js';

const RUNS = mkdtempSync(join(tmpdir(), 'fastts-run-format-'));
const ID = '20261202-120000-mobilenet_v1_0.25_224';
const saved = process.env.FASTTS_RUNS;

beforeAll(() => {
  process.env.FASTTS_RUNS = RUNS;
});
afterAll(() => {
  if (saved === undefined) delete process.env.FASTTS_RUNS;
  else process.env.FASTTS_RUNS = saved;
  rmSync(RUNS, { recursive: true, force: true });
});

const config: TrainConfig = {
  command: 'train',
  fastts: '0.1.0',
  createdAt: '2026-12-02T12:00:00.000Z',
  dataDir: '/data/doraemon-walle',
  train: 'train',
  valid: 'valid',
  test: 'test',
  size: 64,
  bs: 32,
  seed: 7,
  augment: true,
  arch: 'mobilenet_v1_0.25_224',
  pretrained: true,
  epochs: 1,
  lr: null,
  unfreezeEpochs: 1,
  unfreezeLr: '1e-5:3e-4',
  backend: 'auto',
  parallel: 'auto',
  rows: 3,
  topLosses: 9,
  classes: ['doraemon', 'walle'],
  nTrain: 279,
  nValid: 33,
  nTest: 6,
  totalIters: 16,
};
const metrics: MetricsLine[] = [
  { epoch: 0, phase: 'frozen', train_loss: 0.6, valid_loss: 0.3, accuracy: 0.9, error_rate: 0.1, seconds: 10 },
  { epoch: 0, phase: 'unfrozen', train_loss: 0.4, valid_loss: 0.2, accuracy: 0.97, error_rate: 0.03, seconds: 12 },
];
const batches: BatchLine[] = Array.from({ length: 16 }, (_, i) => ({
  iter: i,
  epoch: 0,
  phase: i < 8 ? 'frozen' : 'unfrozen',
  loss: 1 - i / 20,
  lr: 1e-3 * (i + 1),
  lrs: [1e-4 * (i + 1), 1e-3 * (i + 1)],
  mom: 0.9,
}));
const interpretation: Interpretation = {
  classes: ['doraemon', 'walle'],
  confusion: [
    [16, 0],
    [1, 16],
  ],
  items: [
    {
      index: 0,
      file: 'valid/walle/walle.1.jpg',
      thumb: 'thumbs/valid/0.jpg',
      actual: 1,
      pred: 0,
      loss: 2.3,
      prob: 0.9,
      probActual: 0.1,
    },
    {
      index: 1,
      file: 'valid/doraemon/doraemon.1.jpg',
      thumb: null,
      actual: 0,
      pred: 0,
      loss: 0.01,
      prob: 0.99,
      probActual: 0.99,
    },
  ],
  topLosses: [0, 1],
};

describe('the run format: written by the CLI, read by the dashboard', () => {
  it('reads back every field the CLI writes', async () => {
    const dir = join(RUNS, ID);
    mkdirSync(join(dir, 'model'), { recursive: true });
    writeRunConfig(dir, config);
    const status = new RunStatusFile(dir, '2026-12-02T12:00:00.000Z');
    status.write('running', { totalIters: 16 });
    const log = new MetricsLog(dir);
    for (const m of metrics) log.append(m);
    for (const b of batches) appendJsonLine(join(dir, RUN_FILES.batches), b);
    writeJson(join(dir, RUN_FILES.interpretation), interpretation);
    writeFileSync(
      join(dir, RUN_FILES.testPredictions),
      predictionsCsv([{ file: 'test/walle.113.jpg', label: 'walle', probability: 0.98 }]),
    );
    writeFileSync(join(dir, 'model', 'export.safetensors'), 'weights');
    mkdirSync(join(dir, 'thumbs', 'valid'), { recursive: true });
    writeFileSync(join(dir, 'thumbs', 'valid', '0.jpg'), 'jpeg');
    status.write('finished', { totalIters: 16 });

    const run = await readRun(ID);
    expect(run.config).toMatchObject({ ...config, formatVersion: RUN_FORMAT_VERSION });
    expect(run).toMatchObject({
      id: ID,
      arch: config.arch,
      dataset: 'doraemon-walle',
      classes: config.classes,
      status: 'finished',
      epochs: 2,
      totalEpochs: 2,
      bestAccuracy: 0.97,
      totalIters: 16,
      date: config.createdAt,
      error: null,
    });
    expect(run.metrics).toEqual(metrics);
    expect(run.batches).toEqual(batches.map(({ lrs: _lrs, ...b }) => b));
    expect(run.interpretation).toEqual(interpretation);
    expect(run.testPredictions).toEqual([{ file: 'test/walle.113.jpg', label: 'walle', probability: 0.98, thumb: null }]);
    expect(run.modelFiles).toEqual(['model/export.safetensors']);
    expect(run.warnings).toEqual([]);
  });

  it('reads a run whose process died as interrupted, resumable from its checkpoint', async () => {
    const id = '20261202-130000-resnet34';
    const dir = join(RUNS, id);
    mkdirSync(join(dir, 'checkpoints'), { recursive: true });
    writeRunConfig(dir, { ...config, arch: 'resnet34' });
    writeFileSync(join(dir, 'checkpoints', 'epoch-1.safetensors'), 'x');
    // status.json as a SIGKILLed process leaves it: running, for a pid that is gone
    writeJson(join(dir, RUN_FILES.status), {
      status: 'running',
      pid: 2 ** 22 + 1,
      host: (await import('node:os')).hostname(),
      startedAt: config.createdAt,
      updatedAt: config.createdAt,
      resume: { phase: 'frozen', epoch: 1, checkpoint: 'checkpoints/epoch-1.safetensors', iters: 8 },
    });
    const run = await readRun(id);
    expect(run.status).toBe('interrupted');
    expect(run.resumable).toBe(true);
    expect(run.error).toMatch(/is gone without finishing the run/);
  });
});

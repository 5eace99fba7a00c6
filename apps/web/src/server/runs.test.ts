import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidNameError, NotFoundError } from './errors';
import { listRuns, readRun, runFingerprint } from './runs';

let base: string;
let runs: string;
const old = process.env.FASTTS_RUNS;

function run(id: string, files: Record<string, string>): string {
  const dir = join(runs, id);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const metric = (epoch: number, accuracy: number) =>
  JSON.stringify({ epoch, phase: 'frozen', train_loss: 0.3, valid_loss: 0.2, accuracy, error_rate: 1 - accuracy, seconds: 4 }) +
  '\n';

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'fastts-web-runs-'));
  runs = join(base, 'runs');
  process.env.FASTTS_RUNS = runs;
});
beforeEach(() => {
  rmSync(runs, { recursive: true, force: true });
  mkdirSync(runs);
});
afterAll(() => {
  rmSync(base, { recursive: true, force: true });
  if (old === undefined) delete process.env.FASTTS_RUNS;
  else process.env.FASTTS_RUNS = old;
});

describe('readRun', () => {
  it('reads config, metrics, batches and the interpretation of a finished CLI run', async () => {
    run('20261128-010203-mobilenet_v1_0.25_224', {
      'config.json': JSON.stringify({
        arch: 'mobilenet_v1_0.25_224',
        dataDir: '/data/doraemon-walle/',
        epochs: 1,
        unfreezeEpochs: 2,
        classes: ['a', 'b'],
      }),
      'status.json': JSON.stringify({ status: 'finished', totalIters: 34 }),
      'metrics.jsonl': metric(0, 0.9) + metric(0, 0.97).replace('frozen', 'unfrozen'),
      'batches.jsonl':
        '{"iter":0,"epoch":0,"phase":"frozen","loss":0.7,"lr":[1e-4,1e-3],"mom":0.95}\n{"iter":1,"epoch":0,"loss":0.6,"lr":2e-3,"mom":0.9}\n',
      'interpretation.json': JSON.stringify({
        classes: ['a', 'b'],
        confusion: [
          [1, 1],
          [0, 1],
        ],
        items: [
          { index: 0, file: 'valid/a/1.jpg', thumb: 'thumbs/valid/0.jpg', actual: 0, pred: 0, loss: 0.1, prob: 0.9 },
          { index: 1, file: 'valid/a/2.jpg', thumb: '../../../etc/passwd', actual: 0, pred: 1, loss: 2.3, prob: 0.8 },
          { index: 2, file: 'valid/b/3.jpg', actual: 1, pred: 1, loss: 0.2, prob: 0.85 },
          { index: 3, actual: 5, pred: 0, loss: 1, prob: 1 },
        ],
        k: 2,
      }),
      'thumbs/valid/0.jpg': 'x',
      'test_predictions.csv': 'file,label,probability\n"test/x,1.jpg",a,0.75\n',
      'thumbs/test/0.jpg': 'x',
      'model/export.safetensors': 'x',
      'batch.png': 'x',
    });
    const r = await readRun('20261128-010203-mobilenet_v1_0.25_224');
    expect(r).toMatchObject({
      arch: 'mobilenet_v1_0.25_224',
      dataset: 'doraemon-walle',
      status: 'finished',
      epochs: 2,
      totalEpochs: 3,
      bestAccuracy: 0.97,
      totalIters: 34,
    });
    expect(r.batches.map((b) => [b.iter, b.lr, b.phase])).toEqual([
      [0, 1e-3, 'frozen'],
      [1, 2e-3, null],
    ]);
    const interp = r.interpretation!;
    expect(interp.items).toHaveLength(3); // the item with an out-of-range class is dropped
    expect(interp.items.map((i) => i.thumb)).toEqual(['thumbs/valid/0.jpg', null, null]); // traversal thumb refused
    expect(interp.items[1]!.probActual).toBeCloseTo(0.2); // two classes: 1 - prob of the (wrong) prediction
    expect(interp.topLosses).toEqual([1, 2]); // the k largest losses when topLosses is absent
    expect(r.testPredictions).toEqual([{ file: 'test/x,1.jpg', label: 'a', probability: 0.75, thumb: 'thumbs/test/0.jpg' }]);
    expect(r.modelFiles).toEqual(['model/export.safetensors']);
    expect(r.images).toEqual({ batch: true, confusionMatrix: false, topLosses: false });
    expect(r.warnings).toEqual([]);
  });

  it('tells running, failed, interrupted (by Ctrl-C or a dead process) and stale runs apart', async () => {
    run('live', { 'config.json': '{}', 'status.json': JSON.stringify({ status: 'running', pid: process.pid }) });
    run('dead', { 'config.json': '{}', 'status.json': JSON.stringify({ status: 'running', pid: 2 ** 22 + 12345 }) });
    run('ctrlc', { 'config.json': '{}', 'status.json': JSON.stringify({ status: 'interrupted', error: 'stopped by Ctrl-C' }) });
    run('crashed', { 'config.json': '{}', 'status.json': JSON.stringify({ status: 'failed', error: 'out of memory' }) });
    const old = run('old', { 'config.json': '{}', 'metrics.jsonl': metric(0, 0.5) });
    const t = new Date(Date.now() - 3600_000);
    for (const f of ['', 'config.json', 'metrics.jsonl']) utimesSync(join(old, f), t, t);
    run('fresh', { 'config.json': '{}', 'metrics.jsonl': metric(0, 0.5) });
    expect((await readRun('live')).status).toBe('running');
    expect(await readRun('dead')).toMatchObject({
      status: 'interrupted',
      error: expect.stringContaining('gone'),
      resumable: false,
    });
    expect(await readRun('ctrlc')).toMatchObject({ status: 'interrupted', error: 'stopped by Ctrl-C' });
    expect(await readRun('crashed')).toMatchObject({ status: 'failed', error: 'out of memory' });
    expect((await readRun('old')).status).toBe('unknown');
    expect((await readRun('fresh')).status).toBe('running');
  });

  it('reports malformed files as warnings, and ignores a partial last line while running', async () => {
    run('messy', {
      'status.json': '{"status":"running","pid":' + process.pid + '}',
      'config.json': '{oops',
      'metrics.jsonl': metric(0, 0.5) + 'garbage\n' + '{"epoch":1,"acc',
    });
    const r = await readRun('messy');
    expect(r.metrics).toHaveLength(1);
    expect(r.warnings).toEqual([
      'config.json is not valid JSON (still being written?): ignored',
      'metrics.jsonl: 1 malformed line(s) skipped',
    ]);
  });

  it('rejects bad ids (400) and missing or escaping runs (404)', async () => {
    mkdirSync(join(base, 'elsewhere'), { recursive: true });
    writeFileSync(join(base, 'elsewhere', 'config.json'), '{"arch":"secret"}');
    symlinkSync(join(base, 'elsewhere'), join(runs, 'link'));
    await expect(readRun('../elsewhere')).rejects.toBeInstanceOf(InvalidNameError);
    await expect(readRun('%2e%2e')).rejects.toBeInstanceOf(InvalidNameError);
    await expect(readRun('nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(readRun('link')).rejects.toBeInstanceOf(NotFoundError);
    await expect(runFingerprint('link')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('listRuns', () => {
  it('lists run folders newest first, skipping symlinked runs, plain files and folders that are not runs', async () => {
    run('a', { 'config.json': JSON.stringify({ createdAt: '2026-01-01T00:00:00Z', arch: 'x' }) });
    run('b', { 'config.json': JSON.stringify({ createdAt: '2026-02-01T00:00:00Z', arch: 'y' }) });
    run('not-a-run', { 'notes.txt': 'hello' });
    writeFileSync(join(runs, 'file.txt'), 'x');
    mkdirSync(join(base, 'out2'), { recursive: true });
    writeFileSync(join(base, 'out2', 'config.json'), '{}');
    symlinkSync(join(base, 'out2'), join(runs, 'linked'));
    expect((await listRuns()).map((r) => r.id)).toEqual(['b', 'a']);
  });

  it('is empty when the runs directory does not exist', async () => {
    rmSync(runs, { recursive: true, force: true });
    expect(await listRuns()).toEqual([]);
  });
});

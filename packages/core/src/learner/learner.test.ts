import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../gradients.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { Learner } from './learner.js';
import { accuracy } from './metrics.js';
import { slice, lrRange } from './lr.js';
import { OneCycleSchedule } from './schedule.js';
import { OneCycleScheduler } from './param-scheduler.js';
import { MemoryStorage } from './storage.js';
import { decodeUtf8 } from '../weights/text.js';
import { tableReporter } from './progress.js';
import { CSVLogger, JSONLLogger } from './loggers.js';
import { EarlyStoppingCallback, SaveModelCallback } from './tracker.js';
import { FitInterruptedError, LearnerConfigError, NonFiniteLossError } from './errors.js';
import { crossEntropyFlat } from './loss.js';
import { stripesData, tinyNet } from './testing.js';
import type { Callback } from './callback.js';
import { withSeed, type Module } from '../nn/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A Learner on striped images; the net's initialization and dropout are seeded by `seed`. */
function makeLearner(
  opts: Partial<ConstructorParameters<typeof Learner>[2]> = {},
  dataOpts: Parameters<typeof stripesData>[0] = {},
  seed = 1,
) {
  const data = stripesData(dataOpts);
  const { model, layerGroups } = withSeed(seed, () => tinyNet());
  const learn = new Learner(data, model, { metrics: [accuracy], layerGroups, ...opts });
  return { learn, data, model, layerGroups };
}

/** Copies of the named parameters/buffers of a module. */
function values(m: Module, which: 'params' | 'buffers' = 'params'): Map<string, Float32Array> {
  const list = which === 'params' ? m.namedParameters() : m.namedBuffers();
  return new Map(list.map(([n, v]) => [n, Float32Array.from(v.dataSync())]));
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

describe('Learner.fitOneCycle', () => {
  it('learns the task, prints the epoch table and follows the one-cycle schedule per batch and group', async () => {
    const lines: string[] = [];
    const { learn, data } = makeLearner({ reporter: tableReporter((l) => lines.push(l)) });
    // initialization and dropout are seeded (makeLearner): the same run every time
    await learn.fitOneCycle(3, { maxLr: slice(1e-2) });
    const stats = await learn.validate();
    expect(stats.metrics[0]).toBeGreaterThanOrEqual(0.9);
    expect(lines[0]).toBe('epoch     train_loss  valid_loss  accuracy  time');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^2 {9}\d\.\d{6} {4}\d\.\d{6} {4}\d\.\d{6}  \d\d:\d\d$/);
    const rec = learn.recorder;
    expect(rec.rows.map((r) => r.epoch)).toEqual([0, 1, 2]);
    expect(rec.rows[2]!.metrics.accuracy).toBeCloseTo(stats.metrics[0]!, 6);
    const n = data.trainDl.length * 3;
    expect(rec.lrs).toHaveLength(n);
    const sched = new OneCycleSchedule(n);
    const maxLrs = lrRange(slice(1e-2), 3);
    for (const k of [0, 3, Math.floor(n * 0.3), n - 1]) {
      rec.lrs[k]!.forEach((lr, g) => expect(lr).toBeCloseTo(maxLrs[g]! * sched.at(k).lrFactor, 12));
      expect(rec.moms[k]).toBeCloseTo(sched.at(k).mom, 12);
    }
    expect(learn.epochsTrained).toBe(3);
  });

  it('resumes at startEpoch: only the remaining epochs run, the schedule continues where it was', async () => {
    const { learn, data } = makeLearner();
    await learn.fitOneCycle(3, { startEpoch: 2 });
    const len = data.trainDl.length;
    expect(learn.recorder.rows.map((r) => r.epoch)).toEqual([2]);
    expect(learn.recorder.lrs).toHaveLength(len);
    const sched = new OneCycleSchedule(3 * len);
    learn.recorder.lrs.forEach((l, k) => expect(l[2]).toBeCloseTo(3e-3 * sched.at(2 * len + k).lrFactor, 12));
    await expect(learn.fitOneCycle(2, { startEpoch: 2 })).rejects.toThrow(/startEpoch must be a whole number in \[0, 2\)/);
  });

  it('keeps tf.memory().numTensors the same after epoch 1 and after epoch 3 (no leak)', async () => {
    const { learn } = makeLearner();
    const counts: number[] = [];
    const probe: Callback = { afterEpoch: () => void counts.push(tf.memory().numTensors) };
    await learn.fitOneCycle(3, { callbacks: [probe] });
    expect(counts).toHaveLength(3);
    expect(counts[2]).toBe(counts[0]);
  });
});

describe('freezing', () => {
  it('freeze(): frozen body weights stay bit-identical while BatchNorm params and running stats and the head change', async () => {
    const { learn, model } = makeLearner();
    learn.freeze();
    const trainable = learn.trainableParameterNames();
    expect(trainable).toContain('0.0.1.weight'); // stem BatchNorm weight: trainable even though frozen (train_bn)
    expect(trainable).not.toContain('0.0.0.weight'); // stem conv
    expect(trainable).not.toContain('0.1.0.weight'); // block conv
    const p0 = values(model);
    const b0 = values(model, 'buffers');
    await learn.fitOneCycle(1, { maxLr: 1e-2 });
    const p1 = values(model);
    const b1 = values(model, 'buffers');
    expect(same(p0.get('0.0.0.weight')!, p1.get('0.0.0.weight')!)).toBe(true);
    expect(same(p0.get('0.1.0.weight')!, p1.get('0.1.0.weight')!)).toBe(true);
    for (const bn of ['0.0.1.weight', '0.0.1.bias', '0.1.1.weight', '0.1.1.bias', '1.2.weight', '1.4.weight', '1.8.weight']) {
      expect(same(p0.get(bn)!, p1.get(bn)!), bn).toBe(false);
    }
    for (const stat of ['0.0.1.running_mean', '0.0.1.running_var', '0.1.1.running_mean']) {
      expect(same(b0.get(stat)!, b1.get(stat)!), stat).toBe(false);
    }
  });

  it('freezeTo(1) trains the block and head but not the stem conv; unfreeze() trains everything', () => {
    const { learn, model } = makeLearner();
    learn.freezeTo(1);
    const t = learn.trainableParameterNames();
    expect(t).not.toContain('0.0.0.weight');
    expect(t).toContain('0.1.0.weight');
    learn.unfreeze();
    expect(learn.trainableParameterNames()).toHaveLength(model.namedParameters().length);
  });

  it('fit with slice(lo, hi) gives each layer group its geometric learning rate', async () => {
    const { learn } = makeLearner();
    learn.unfreeze();
    await learn.fit(1, slice(1e-5, 1e-3));
    const lrs = learn.recorder.lrs[0]!;
    expect(lrs[0]).toBeCloseTo(1e-5, 15);
    expect(lrs[1]).toBeCloseTo(1e-4, 15);
    expect(lrs[2]).toBeCloseTo(1e-3, 15);
  });
});

describe('lrFind', () => {
  it('returns a curve with suggestions and leaves weights, statistics and optimizer state exactly as they were', async () => {
    const { learn, model } = makeLearner();
    await learn.fit(1, 1e-3); // some optimizer state to preserve
    const p0 = values(model);
    const b0 = values(model, 'buffers');
    const tensorsBefore = tf.memory().numTensors;
    const opt0 = learn.opt.stateDict();
    const res = await learn.lrFind({ numIt: 20 });
    expect(res.lrs.length).toBeGreaterThan(5);
    expect(res.lrs[0]).toBeCloseTo(1e-7, 15);
    expect(res.lrs[1]! / res.lrs[0]!).toBeCloseTo((10 / 1e-7) ** (1 / 20), 6);
    expect(res.losses.length).toBe(res.lrs.length);
    expect(res.suggestions.lrMin).toBeGreaterThan(0);
    expect(res.suggestions.lrSteep).toBeGreaterThan(0);
    const p1 = values(model);
    const b1 = values(model, 'buffers');
    for (const [k, v] of p0) expect(same(v, p1.get(k)!), k).toBe(true);
    for (const [k, v] of b0) expect(same(v, b1.get(k)!), k).toBe(true);
    const opt1 = learn.opt.stateDict();
    expect(opt1.meta.steps).toEqual(opt0.meta.steps);
    for (const [k, t] of Object.entries(opt0.tensors))
      expect(same(t.dataSync() as Float32Array, opt1.tensors[k]!.dataSync() as Float32Array)).toBe(true);
    tf.dispose([...Object.values(opt0.tensors), ...Object.values(opt1.tensors)]);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});

describe('robustness', () => {
  it('stops on a NaN loss with a clear message and keeps the weights of the last good step', async () => {
    let poison = false;
    const { learn, model } = makeLearner({
      lossFunc: (out, y) => {
        const l = crossEntropyFlat(out, y);
        return poison ? tf.mul(l, Number.NaN) : l;
      },
    });
    let lastGood: Map<string, Float32Array> | undefined;
    const snap: Callback = {
      beforeBatch: (l) => void (poison = l.iter === 2),
      afterStep: () => void (lastGood = values(model)),
    };
    const err = await learn.fit(2, 1e-3, { callbacks: [snap] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteLossError);
    expect((err as Error).message).toMatch(/epoch 0, batch 2: the loss is NaN.*last good step.*Lower the learning rate/);
    const now = values(model);
    for (const [k, v] of lastGood!) expect(same(v, now.get(k)!), k).toBe(true);
  });

  it('an abort signal stops at the end of the batch and leaves a checkpoint that loads', async () => {
    const storage = new MemoryStorage();
    const { learn, model } = makeLearner({ storage, path: 'run' });
    const signal = { aborted: false };
    const stopper: Callback = { afterBatch: (l) => void (l.training && l.iter === 1 && (signal.aborted = true)) };
    const err = await learn.fitOneCycle(2, { signal, callbacks: [stopper] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FitInterruptedError);
    expect((err as FitInterruptedError).checkpoint).toBe('run/models/interrupted.safetensors');
    expect(learn.recorder.losses).toHaveLength(2);
    const w = values(model);
    const other = makeLearner({ storage, path: 'run' });
    await other.learn.load('interrupted');
    const w2 = values(other.model);
    for (const [k, v] of w) expect(same(v, w2.get(k)!), k).toBe(true);
    expect(other.learn.opt.stepCount('1.8.weight')).toBe(2);
  });

  it('refuses to train with nothing trainable and explains storage needs', async () => {
    const { learn, model } = makeLearner();
    model.requiresGrad(false);
    await expect(learn.fit(1)).rejects.toThrow(/no parameter is trainable/);
    await expect(learn.save('x')).rejects.toThrow(LearnerConfigError);
  });
});

describe('predictions', () => {
  it('getPreds gives probabilities and targets in item order, also for an unlabelled test set; tta too', async () => {
    const { learn, data } = makeLearner({}, { nTest: 6 });
    await learn.fitOneCycle(3, { maxLr: slice(1e-2) });
    const v = await learn.getPreds({ withLoss: true });
    expect(v.items).toEqual(data.validDl!.items);
    expect(v.targets).toEqual(data.validDl!.labels);
    expect(v.probs[0]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const acc = v.preds.filter((p, i) => p === v.targets[i]).length / v.preds.length;
    expect(acc).toBeCloseTo((await learn.validate()).metrics[0]!, 6);
    expect(v.losses![0]).toBeCloseTo(-Math.log(v.probs[0]![v.targets[0]!]!), 5);
    const tr = await learn.getPreds({ ds: 'train' }); // the train loader shuffles: batches say which items they hold
    expect(tr.targets).toEqual(data.trainDl.labels);
    const t = await learn.getPreds({ ds: 'test' });
    expect(t.items).toHaveLength(6);
    expect(t.targets).toEqual([-1, -1, -1, -1, -1, -1]);
    const tta = await learn.tta();
    expect(tta.probs).toHaveLength(v.probs.length);
    expect(tta.preds.filter((p, i) => p === tta.targets[i]).length / tta.preds.length).toBeGreaterThanOrEqual(0.75);
  });
});

describe('callbacks and files', () => {
  it('CSV and JSONL loggers write the history through storage', async () => {
    const storage = new MemoryStorage();
    const { learn } = makeLearner({
      storage,
      path: 'out',
      callbacks: [new CSVLogger(), new JSONLLogger('log.jsonl', { batches: true })],
    });
    await learn.fit(2, 1e-3);
    const csv = decodeUtf8(await storage.readFile('out/history.csv'))
      .trim()
      .split('\n');
    expect(csv[0]).toBe('epoch,train_loss,valid_loss,accuracy,time');
    expect(csv).toHaveLength(3);
    expect(csv[2]).toMatch(/^1,\d\.\d{6},\d\.\d{6},\d\.\d{6},\d\d:\d\d$/);
    const jl = decodeUtf8(await storage.readFile('out/log.jsonl'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(jl.filter((l) => l.type === 'epoch')).toHaveLength(2);
    expect(jl.filter((l) => l.type === 'batch')).toHaveLength(2 * learn.data.trainDl.length);
  });

  it('EarlyStopping stops when the monitored value stops improving; SaveModel reloads the best', async () => {
    const storage = new MemoryStorage();
    const { learn } = makeLearner({ storage });
    const es = new EarlyStoppingCallback({ monitor: 'valid_loss', minDelta: 100, patience: 0 });
    const sm = new SaveModelCallback({ monitor: 'accuracy' });
    await learn.fit(5, 1e-3, { callbacks: [es, sm] });
    // with minDelta 100 nothing after the first epoch counts as an improvement: stop after epoch 1
    expect(learn.recorder.rows).toHaveLength(2);
    expect(es.stoppedEpoch).toBe(1);
    expect(await storage.exists('models/bestmodel.safetensors')).toBe(true);
  });

  it('save/load round-trips weights, optimizer state and epochs; export writes classes and weights', async () => {
    const storage = new MemoryStorage();
    const { learn, model } = makeLearner({ storage, exportInfo: { arch: 'tiny', size: 16 } });
    await learn.fit(1, 1e-3);
    const file = await learn.save('stage-1');
    expect(file).toBe('models/stage-1.safetensors');
    const other = makeLearner({ storage });
    await other.learn.load('stage-1');
    const a = values(model);
    const b = values(other.model);
    for (const [k, v] of a) expect(same(v, b.get(k)!), k).toBe(true);
    expect(other.learn.epochsTrained).toBe(1);
    expect(other.learn.opt.stepCount('1.8.weight')).toBe(learn.opt.stepCount('1.8.weight'));
    await expect(other.learn.load('nope')).rejects.toThrow(/no checkpoint "nope"/);
    const exp = await learn.export();
    expect(exp).toBe('export.safetensors');
    const bytes = await storage.readFile(exp);
    const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(decodeUtf8(bytes.subarray(8, 8 + headerLen))) as { __metadata__: { fastts: string } };
    expect(JSON.parse(header.__metadata__.fastts)).toMatchObject({
      format: 'fastts-export',
      classes: ['horizontal', 'vertical'],
      arch: 'tiny',
      size: 16,
    });
  });
});

describe('seeding', () => {
  /** The losses, learning rates and epoch rows (without wall times) of a 2-epoch one-cycle fit. */
  async function seededRun(seed: number) {
    const { learn } = makeLearner({}, {}, seed);
    await learn.fitOneCycle(2, { maxLr: slice(1e-2) });
    const r = learn.recorder;
    return { losses: [...r.losses], lrs: r.lrs.map((l) => [...l]), rows: r.rows.map(({ seconds: _, ...row }) => row) };
  }

  it('the same seed gives the same run (initialization and dropout), bit for bit; another seed another run', async () => {
    const a = await seededRun(3);
    const b = await seededRun(3);
    const c = await seededRun(4);
    expect(b).toEqual(a);
    expect(c.losses).not.toEqual(a.losses);
    expect(c.rows.map((r) => r.validLoss)).not.toEqual(a.rows.map((r) => r.validLoss));
  });

  it('fitOneCycle is fit with a OneCycleScheduler callback (fast.ai v2), to the bit', async () => {
    const a = makeLearner({}, {}, 5);
    await a.learn.fitOneCycle(2, { maxLr: slice(1e-2), pctStart: 0.25 });
    const b = makeLearner({}, {}, 5);
    const scheduler = new OneCycleScheduler(lrRange(slice(1e-2), 3), 2 * b.data.trainDl.length, { pctStart: 0.25 });
    await b.learn.fit(2, 1, { callbacks: [scheduler] });
    expect(b.learn.recorder.lrs).toEqual(a.learn.recorder.lrs);
    expect(b.learn.recorder.moms).toEqual(a.learn.recorder.moms);
    expect(b.learn.recorder.losses).toEqual(a.learn.recorder.losses);
  });
});

/**
 * ResNet-34 throughput on the active backend, in the shape of shared/bench/torch_cpu_baseline.py: 224 px, random
 * init, inference (eval), training unfrozen, and training frozen the fast.ai way (only the classifier and the
 * BatchNorm layers trainable), each with warm-up iterations (shader compilation) excluded from the timing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AdamW } from '@fastts/core/platform';
import { BatchNorm, type Module } from '@fastts/core/nn';
import { createModel } from '@fastts/core/models';
import { crossEntropyLoss } from '@fastts/core';

/** Options of {@link benchResnet34}. */
export interface BenchOptions {
  batchSize: number;
  /** Model architecture (`createModel` name). Default resnet34. */
  arch?: string;
  /** Image side in pixels. Default 224. */
  size?: number;
  /** Timed iterations per measurement. */
  iterations: number;
  /** Untimed iterations first (pipelines compile on the first ones). */
  warmup: number;
  log?: (line: string) => void;
}

/** One measurement. */
export interface BenchResult {
  mode: 'inference' | 'train-unfrozen' | 'train-frozen';
  batchSize: number;
  /** Median milliseconds per iteration. */
  msPerIter: number;
  imagesPerSecond: number;
  /** Milliseconds of the warm-up iterations (compilation included). */
  warmupMs: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function measure(mode: BenchResult['mode'], o: BenchOptions, iter: () => Promise<void>): Promise<BenchResult> {
  const warmupMs: number[] = [];
  for (let i = 0; i < o.warmup; i++) {
    const t0 = performance.now();
    await iter();
    warmupMs.push(Math.round(performance.now() - t0));
  }
  const times: number[] = [];
  for (let i = 0; i < o.iterations; i++) {
    const t0 = performance.now();
    await iter();
    times.push(performance.now() - t0);
  }
  const ms = median(times);
  const r = {
    mode,
    batchSize: o.batchSize,
    msPerIter: Math.round(ms * 10) / 10,
    imagesPerSecond: Math.round((o.batchSize / ms) * 10000) / 10,
    warmupMs,
  };
  o.log?.(`${mode} bs ${o.batchSize}: ${r.msPerIter} ms/iter, ${r.imagesPerSecond} img/s (warm-up ${warmupMs.join(', ')} ms)`);
  return r;
}

/** Sets trainable flags as fast.ai's `freeze()` with train_bn: classifier (`fc`) and BatchNorm layers only. */
function freezeBody(model: Module): void {
  const bn = new Set(
    model
      .namedModules()
      .filter(([, m]) => m instanceof BatchNorm)
      .map(([name]) => name),
  );
  for (const [name, p] of model.namedParameters()) {
    const owner = name.slice(0, name.lastIndexOf('.'));
    p.trainable = name.startsWith('fc.') || bn.has(owner);
  }
}

/** Measures inference, unfrozen and frozen training of ResNet-34 (or `o.arch`) on the active backend. */
export async function benchResnet34(o: BenchOptions): Promise<BenchResult[]> {
  const model = createModel(o.arch ?? 'resnet34', { numClasses: 1000 });
  const size = o.size ?? 224;
  const x = tf.randomUniform([o.batchSize, size, size, 3], -2, 2, 'float32', 1) as tf.Tensor4D;
  const y = tf.randomUniform([o.batchSize], 0, 1000, 'int32', 2) as tf.Tensor1D;
  const lossFn = crossEntropyLoss();
  const results: BenchResult[] = [];

  model.eval();
  results.push(
    await measure('inference', o, async () => {
      const out = tf.tidy(() => model.forward(x));
      await out.data();
      out.dispose();
    }),
  );

  const train = async (mode: 'train-unfrozen' | 'train-frozen') => {
    model.train();
    const named = model.namedParameters().filter(([, v]) => v.trainable);
    const opt = new AdamW([named.map(([name, variable]) => ({ name, variable }))], { lr: 1e-4 });
    const byVar = new Map(named.map(([k, v]) => [v.name, k]));
    const r = await measure(mode, o, async () => {
      const { value, grads } = tf.variableGrads(
        () => lossFn(model.forward(x), y) as tf.Scalar,
        named.map(([, v]) => v),
      );
      const keyed = new Map(Object.entries(grads).map(([v, g]) => [byVar.get(v)!, g]));
      opt.step(keyed);
      await value.data();
      tf.dispose([value, ...keyed.values()]);
    });
    opt.resetState();
    return r;
  };
  results.push(await train('train-unfrozen'));
  freezeBody(model);
  results.push(await train('train-frozen'));

  tf.dispose([x, y]);
  model.dispose();
  return results;
}

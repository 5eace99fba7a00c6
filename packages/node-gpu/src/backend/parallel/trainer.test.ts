import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { createModel, preprocess } from '@fastts/core/models';
import { crossEntropyFlat } from '@fastts/core';
import { registerMissingKernels, setNativeConvolutions } from '@fastts/core/kernels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DORAEMON_WALLE, requireShared } from '../../../../../test-support/shared.js';
import { loadImageBatch } from '../../data/index.js';
import { DataParallelError } from '../errors.js';
import { enableNativeConvolutions } from '../../onnx/native-convolutions.js';
import { DataParallelTrainer, type RawBatch } from './trainer.js';

const ARCH = 'resnet18';
const SIZE = 32;
const MODEL = { module: '@fastts/core/models', export: 'createModel', args: [ARCH, { numClasses: 2 }] };

/** Eight real training images (4 doraemon, 4 walle), normalized as the model expects. */
async function realBatch(): Promise<RawBatch> {
  requireShared();
  const pick = (label: string): string[] =>
    readdirSync(join(DORAEMON_WALLE, 'train', label))
      .filter((f) => f.endsWith('.jpg'))
      .sort()
      .slice(0, 4)
      .map((f) => join(DORAEMON_WALLE, 'train', label, f));
  const paths = [...pick('doraemon'), ...pick('walle')];
  const pixels = await loadImageBatch(paths, { size: SIZE });
  const x = preprocess(ARCH, pixels);
  const data = (await x.data()) as Float32Array;
  tf.dispose([pixels, x]);
  return { x: data, shape: [8, SIZE, SIZE, 3], y: Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1]) };
}

/** Largest |a − b| / (atol + rtol·|b|) over every element (≤ 1 means allclose). */
function closeness(
  a: Map<string, Float32Array>,
  b: Map<string, Float32Array>,
  atol: number,
  rtol: number,
): { worst: number; name: string } {
  let out = { worst: 0, name: '' };
  for (const [name, va] of a) {
    const vb = b.get(name)!;
    for (let i = 0; i < va.length; i++) {
      const r = Math.abs(va[i]! - vb[i]!) / (atol + rtol * Math.abs(vb[i]!));
      if (r > out.worst) out = { worst: r, name };
    }
  }
  return out;
}

function maxRelDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): { diff: number; name: string } {
  let worst = { diff: 0, name: '' };
  for (const [name, va] of a) {
    const vb = b.get(name)!;
    let d = 0;
    let s = 1e-3;
    for (let i = 0; i < va.length; i++) {
      d = Math.max(d, Math.abs(va[i]! - vb[i]!));
      s = Math.max(s, Math.abs(vb[i]!));
    }
    if (d / s > worst.diff) worst = { diff: d / s, name };
  }
  return worst;
}

describe('DataParallelTrainer', () => {
  let batch: RawBatch;
  let two: DataParallelTrainer;
  let one: DataParallelTrainer;

  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerMissingKernels('wasm');
    batch = await realBatch();
    [two, one] = await Promise.all([
      DataParallelTrainer.create({ model: MODEL, workers: 2, microBatch: 4 }),
      DataParallelTrainer.create({ model: MODEL, workers: 1, microBatch: 4 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([two?.dispose(), one?.dispose()]);
  });

  it('gives the same weights with 2 workers as with 1 worker over the same micro-batches', async () => {
    // Same starting point: worker 0 of `two` built the initial weights; copy them into `one`.
    const start = await two.getWeights();
    await one.setWeights(start);
    const hyper = { lr: 1e-3, wd: 0.01 };
    for (let step = 0; step < 2; step++) {
      const [a, b] = await Promise.all([two.step(batch, undefined, { hyper }), one.step(batch, undefined, { hyper })]);
      expect(a.loss).toBeCloseTo(b.loss, 4);
    }
    const [wTwo, wOne] = await Promise.all([two.getWeights(), one.getWeights()]);
    // The step changed the weights and the BatchNorm statistics (else the comparison proves nothing)...
    expect(maxRelDiff(wTwo, start).diff).toBeGreaterThan(1e-3);
    expect(
      maxRelDiff(new Map([['m', wTwo.get('bn1.running_mean')!]]), new Map([['m', start.get('bn1.running_mean')!]])).diff,
    ).toBeGreaterThan(1e-3);
    expect(wTwo.get('bn1.num_batches_tracked')![0]).toBe(2);
    // ...identically up to float rounding (summation order differs): allclose(atol 1e-5 = 1% of one lr step, rtol 1e-4).
    const c = closeness(wTwo, wOne, 1e-5, 1e-4);
    expect(c.worst, `worst: ${c.name}`).toBeLessThan(1);
    // The replicas of `two` stay bit-identical.
    const [r0, r1] = await two.replicaWeights();
    expect(maxRelDiff(r0!, r1!).diff).toBe(0);
  });

  it('computes the gradients the main thread computes for the same batch', async () => {
    const weights = await one.getWeights();
    const model = createModel(ARCH, { numClasses: 2 });
    model.loadStateDict(
      new Map(
        [...model.namedParameters(), ...model.namedBuffers()].map(([n, v]) => [
          n,
          tf.tensor(weights.get(n)!, v.shape, v.dtype === 'int32' ? 'int32' : 'float32'),
        ]),
      ),
      { layout: 'native' },
    );
    // One worker, the whole batch as one micro-batch: exactly tf.variableGrads on the main thread, on the same
    // kernels. The worker runs its 1×1, strided and small 3×3 convolutions on ONNX Runtime (the default when it is
    // installed); the main thread must too: a randomly initialised network on 32 px images is, about one time in
    // four, a point where the gradient is not continuous in the input (a 1e-6 relative change of the input moves
    // it by 5-10% on the wasm engine alone), so different kernels' rounding may land on either side.
    const whole = await DataParallelTrainer.create({ model: MODEL, workers: 1, microBatch: 8 });
    const [stats] = await whole.stats();
    expect(stats!.nativeConvolutions).toBe('onnxruntime');
    const provider = await enableNativeConvolutions(1, { enabled: true });
    try {
      await whole.setWeights(weights);
      const names = whole.params;
      const r = await whole.computeGradients(batch, undefined, names);
      model.train();
      const x = tf.tensor4d(batch.x, batch.shape);
      const y = tf.tensor1d(batch.y, 'int32');
      const params = new Map(model.namedParameters());
      const { value, grads } = tf.variableGrads(() => crossEntropyFlat(model.forward(x), y) as tf.Scalar, [...params.values()]);
      expect(r.loss).toBeCloseTo((await value.data())[0]!, 4);
      const byVar = new Map([...params].map(([n, v]) => [v.name, n]));
      const mine = new Map(Object.entries(grads).map(([v, g]) => [byVar.get(v)!, g.dataSync() as Float32Array]));
      const worst = maxRelDiff(r.grads, mine);
      expect(worst.diff, `worst: ${worst.name}`).toBeLessThan(1e-3);
      // The BatchNorm statistics came back too, updated once.
      expect(r.buffers.get('bn1.num_batches_tracked')![0]).toBe(weights.get('bn1.num_batches_tracked')![0]! + 1);
      tf.dispose([x, y, value, ...Object.values(grads)]);
    } finally {
      await whole.dispose();
      model.dispose();
      provider?.clear();
      setNativeConvolutions(null);
    }
  });

  it('keeps tf.memory() and the RSS flat across steps, in every worker', async () => {
    const hyper = { lr: 1e-4 };
    const frozen = two.params.filter((n) => /bn\d*\.|downsample\.1\.|^fc\./.test(n));
    await two.step(batch, undefined, { hyper });
    await two.step(batch, undefined, { trainable: frozen, hyper });
    await two.predict(batch);
    const before = await two.stats();
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 4; i++) {
      await two.step(batch, undefined, { hyper });
      await two.step(batch, undefined, { trainable: frozen, hyper });
      await two.predict(batch);
    }
    const after = await two.stats();
    expect(after.map((s) => s.numTensors)).toEqual(before.map((s) => s.numTensors));
    expect(after.map((s) => s.numBytes)).toEqual(before.map((s) => s.numBytes));
    // Heaps only grow to their peak; 12 more steps must not add more than noise.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(150e6);
  });

  it('gives the weights of one single-threaded replica with one replica on two kernel threads', async () => {
    // fresh trainers on both sides: the same weights and no AdamW state yet. The wasm engine's threads split work
    // without changing any sum, so both agree bit for bit (AdamW's first steps turn any rounding difference in a
    // near-zero gradient into a whole step); native GEMMs do not promise that across thread counts: off.
    const [threaded, single] = await Promise.all([
      DataParallelTrainer.create({ model: MODEL, workers: 1, threadsPerWorker: 2, microBatch: 4, nativeConvolutions: false }),
      DataParallelTrainer.create({ model: MODEL, workers: 1, microBatch: 4, nativeConvolutions: false }),
    ]);
    try {
      expect((await threaded.stats()).map((s) => s.kernelThreads)).toEqual([2]);
      expect((await threaded.stats()).map((s) => s.nativeConvolutions)).toEqual([null]);
      expect((await single.stats()).map((s) => s.kernelThreads)).toEqual([1]);
      const start = await two.getWeights();
      await Promise.all([threaded.setWeights(start), single.setWeights(start)]);
      const hyper = { lr: 1e-3, wd: 0.01 };
      for (let step = 0; step < 2; step++) {
        const [a, b] = await Promise.all([threaded.step(batch, undefined, { hyper }), single.step(batch, undefined, { hyper })]);
        expect(a.loss).toBeCloseTo(b.loss, 4);
      }
      const [wT, wS] = await Promise.all([threaded.getWeights(), single.getWeights()]);
      expect(maxRelDiff(wT, start).diff).toBeGreaterThan(1e-3);
      const c = closeness(wT, wS, 1e-5, 1e-4);
      expect(c.worst, `worst: ${c.name}`).toBeLessThan(1);
      const [a, b] = await Promise.all([threaded.predict(batch), single.predict(batch)]);
      for (let i = 0; i < a.logits.length; i++) expect(a.logits[i]).toBeCloseTo(b.logits[i]!, 3);
    } finally {
      await Promise.all([threaded.dispose(), single.dispose()]);
    }
  });

  it('predicts the same logits data-parallel as on one worker', async () => {
    await one.setWeights(await two.getWeights());
    const [a, b] = await Promise.all([two.predict(batch), one.predict(batch)]);
    expect(a.shape).toEqual([8, 2]);
    for (let i = 0; i < a.logits.length; i++) expect(a.logits[i]).toBeCloseTo(b.logits[i]!, 3);
  });

  it("seeds the replicas' dropout by (seed, worker, step): the same gradients twice for a seed, others for another", async () => {
    // cnnLearner's model: fast.ai's head has two Dropout layers upstream of its Linear layers.
    const cnn = { module: '@fastts/core/platform', export: 'createCnnModel', args: [ARCH, 2] };
    const make = (seed: number) => DataParallelTrainer.create({ model: cnn, workers: 2, microBatch: 4, seed });
    const [a, b, c] = await Promise.all([make(3), make(3), make(4)]);
    try {
      const start = await a.getWeights();
      await Promise.all([b.setWeights(start), c.setWeights(start)]);
      const head = a.params.filter((n) => n.startsWith('1.'));
      for (let step = 0; step < 2; step++) {
        const [ga, gb, gc] = await Promise.all([a, b, c].map((t) => t.computeGradients(batch, undefined, head)));
        expect(gb!.loss).toBe(ga!.loss);
        for (const [name, g] of ga!.grads) expect(Array.from(gb!.grads.get(name)!), name).toEqual(Array.from(g));
        expect(maxRelDiff(gc!.grads, ga!.grads).diff).toBeGreaterThan(1e-3);
      }
    } finally {
      await Promise.all([a.dispose(), b.dispose(), c.dispose()]);
    }
  });

  it('says what is wrong with a bad model factory, batch or parameter name', async () => {
    await expect(
      DataParallelTrainer.create({ model: { module: '@fastts/core', export: 'noSuchFactory' }, workers: 1 }),
    ).rejects.toThrow(/has no function export 'noSuchFactory'/);
    await expect(DataParallelTrainer.create({ model: MODEL, workers: 0 })).rejects.toThrow(DataParallelError);
    await expect(two.step(batch, undefined, { trainable: ['no.such.weight'] })).rejects.toThrow(
      /'no.such.weight' is not a parameter/,
    );
    await expect(two.step({ ...batch, y: Int32Array.from([0, 1]) }, undefined)).rejects.toThrow(/got 2 targets for a batch of 8/);
  });
});

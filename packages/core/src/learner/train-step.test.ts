import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../gradients.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdaptiveAvgPool2d, Conv2d, Flatten, Linear, ReLU, Sequential } from '../nn/index.js';
import { SingleBackendStep, trainingBytesPerImage } from './train-step.js';
import { tinyNet } from './testing.js';
import { crossEntropyLoss } from './loss.js';
import { createRng } from '../data/rng.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function setup() {
  const model = new Sequential(
    new Conv2d(3, 4, 3, { padding: 1 }),
    new ReLU(),
    new AdaptiveAvgPool2d(),
    new Flatten(),
    new Linear(4, 3),
  );
  const trainable = new Map(model.namedParameters());
  const r = createRng(3);
  const x = tf.tensor4d(
    Array.from({ length: 9 * 6 * 6 * 3 }, () => r() * 2 - 1),
    [9, 6, 6, 3],
  );
  const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2], 'int32');
  return { ctx: { model, lossFunc: crossEntropyLoss(), trainable }, x, y };
}

describe('SingleBackendStep micro-batching', () => {
  it('accumulates chunk gradients into exactly the full-batch gradient (no BatchNorm involved)', async () => {
    const { ctx, x, y } = setup();
    const full = await new SingleBackendStep({ microBatch: Infinity }).computeGradients(ctx, x, y);
    const chunked = await new SingleBackendStep({ microBatch: 4 }).computeGradients(ctx, x, y); // balanced chunks of 3, 3, 3
    expect(chunked.loss).toBeCloseTo(full.loss, 5);
    expect([...chunked.grads.keys()].sort()).toEqual([...full.grads.keys()].sort());
    for (const [k, g] of full.grads) {
      const a = g.dataSync();
      const b = chunked.grads.get(k)!.dataSync();
      a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 5));
    }
    tf.dispose([...full.grads.values(), ...chunked.grads.values()]);
  });

  it("'auto' measures the peak memory of a 2-image chunk and sizes chunks to the memory budget, leaking nothing", async () => {
    const { ctx, x, y } = setup();
    const before = tf.memory().numTensors;
    const step = new SingleBackendStep({ microBatch: 'auto', memoryBudget: 1 });
    const res = await step.computeGradients(ctx, x, y);
    expect(step.bytesPerImage).toBeGreaterThan(0);
    expect(step.microBatch).toBe(2);
    tf.dispose([...res.grads.values()]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trainingBytesPerImage measures a training step without changing the model (statistics and flags restored)', async () => {
    const { model } = tinyNet();
    const before = model.namedBuffers().map(([, b]) => Array.from(b.dataSync()));
    const tensors = tf.memory().numTensors;
    model.namedParameters()[0]![1].trainable = false;
    const bytes = await trainingBytesPerImage(model, crossEntropyLoss(), [12, 12, 3], 2);
    expect(model.namedParameters()[0]![1].trainable).toBe(false);
    expect(bytes).toBeGreaterThan(12 * 12 * 8 * 4); // at least the first conv's output for one image
    const after = model.namedBuffers().map(([, b]) => Array.from(b.dataSync()));
    expect(after).toEqual(before);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('updates BatchNorm running statistics once per step, with the size-weighted mean of the chunks', async () => {
    const { model } = tinyNet();
    const trainable = new Map(model.namedParameters());
    const ctx = { model, lossFunc: crossEntropyLoss(), trainable };
    const r = createRng(5);
    const x = tf.tensor4d(
      Array.from({ length: 6 * 12 * 12 * 3 }, () => r() * 2 - 1),
      [6, 12, 12, 3],
    );
    const y = tf.tensor1d([0, 1, 0, 1, 0, 1], 'int32');
    const bn = model.namedBuffers().find(([n]) => n.endsWith('running_mean'))!;
    const tracked = model.namedBuffers().find(([n]) => n.endsWith('num_batches_tracked'))!;
    const r0 = Array.from(bn[1].dataSync());
    // expected: average over the chunks [0,3) and [3,6) of (1-m) r0 + m * chunk mean, m = 0.3 (tinyNet)
    const expected: number[][] = [];
    for (const [a, b] of [
      [0, 3],
      [3, 6],
    ] as const) {
      const xs = tf.slice(x, [a, 0, 0, 0], [b - a, -1, -1, -1]);
      tf.tidy(() => bn[1].assign(tf.tensor1d(r0)));
      tf.tidy(() => model.forward(xs));
      expected.push(Array.from(bn[1].dataSync()));
      xs.dispose();
    }
    tf.tidy(() => bn[1].assign(tf.tensor1d(r0)));
    const t0 = tracked[1].dataSync()[0]!;
    const res = await new SingleBackendStep({ microBatch: 3 }).computeGradients(ctx, x, y);
    const got = Array.from(bn[1].dataSync());
    got.forEach((v, i) => expect(v).toBeCloseTo((expected[0]![i]! + expected[1]![i]!) / 2, 5));
    expect(tracked[1].dataSync()[0]).toBe(t0 + 1);
    tf.dispose([...res.grads.values(), x, y]);
  });
});

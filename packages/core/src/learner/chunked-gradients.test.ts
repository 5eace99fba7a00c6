import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../gradients.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdaptiveConcatPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Flatten, Linear, ReLU, Sequential } from '../nn/index.js';
import { chunkRanges, chunkedGradients } from './chunked-gradients.js';
import { crossEntropyLoss } from './loss.js';
import { createRng } from '../data/rng.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('chunkRanges', () => {
  it('covers the batch in as few balanced chunks of at most the size as possible, none of one image', () => {
    const sizes = (n: number, size: number) => chunkRanges(n, size).map(([s, e]) => e - s);
    for (const [n, size] of [
      [9, 4],
      [8, 4],
      [7, 3],
      [6, 100],
      [64, 3],
      [32, 3],
      [5, 2],
      [3, 1],
      [1, 2],
      [17, 8],
    ] as const) {
      const r = chunkRanges(n, size);
      expect(r[0]![0]).toBe(0);
      expect(r.at(-1)![1]).toBe(n);
      r.slice(1).forEach(([s], i) => expect(s).toBe(r[i]![1]));
      const z = sizes(n, size);
      expect(Math.max(...z) - Math.min(...z)).toBeLessThanOrEqual(1);
      if (n > 1) expect(Math.min(...z)).toBeGreaterThanOrEqual(2);
    }
    expect(sizes(9, 4)).toEqual([3, 3, 3]);
    expect(sizes(64, 3)).toEqual([...Array(20).fill(3), 2, 2]);
    expect(sizes(6, 100)).toEqual([6]);
    expect(sizes(9, Infinity)).toEqual([9]);
    expect(sizes(5, 2)).toEqual([3, 2]); // two-image chunks would leave one image alone
    expect(sizes(1, 2)).toEqual([1]);
  });
});

/** A body with no batch statistics (so chunking it is exact) and a fast.ai-like head with BatchNorm1d. */
function model(): Sequential {
  const body = new Sequential(new Conv2d(3, 6, 3, { padding: 1 }), new ReLU());
  const head = new Sequential(new AdaptiveConcatPool2d(), new Flatten(), new BatchNorm1d(12), new Linear(12, 2));
  return new Sequential(body, head);
}

function batch(n: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const r = createRng(11);
  // class 0 and class 1 images differ in mean: a chunk of one class alone loses that signal in a per-chunk BatchNorm1d
  const labels = Array.from({ length: n }, (_, i) => (i < n / 2 ? 0 : 1));
  const x = tf.tensor4d(
    labels.flatMap((l) => Array.from({ length: 5 * 5 * 3 }, () => r() * 2 - 1 + l)),
    [n, 5, 5, 3],
  );
  return { x, y: tf.tensor1d(labels, 'int32') };
}

async function gradsOf(m: Sequential, chunkSize: number, head: 'whole-batch' | 'per-chunk') {
  const { x, y } = batch(8);
  const vars = m.parameters();
  const r = await chunkedGradients(m, crossEntropyLoss(), x, y, vars, { chunkSize, head });
  const out = new Map([...r.grads].map(([k, g]) => [k, Array.from(g.dataSync())]));
  const buffers = m.namedBuffers().map(([k, b]) => [k, Array.from(b.dataSync())] as const);
  tf.dispose([x, y, ...r.grads.values()]);
  return { ...r, grads: out, buffers, names: vars.map((v) => v.name) };
}

describe('chunkedGradients', () => {
  it('gives the whole-batch gradients, loss and head statistics when only the head has BatchNorm', async () => {
    const a = model();
    const b = model();
    b.loadStateDict(a.stateDict());
    const before = tf.memory().numTensors;
    const whole = await gradsOf(a, 100, 'whole-batch');
    const chunked = await gradsOf(b, 3, 'whole-batch'); // chunks of 3, 3 and 2: the first holds class 0 only
    expect(tf.memory().numTensors).toBe(before);
    expect(whole.chunks).toBe(1);
    expect(chunked.chunks).toBe(3);
    expect(chunked.wholeBatchHead).toBe(true);
    expect(chunked.loss).toBeCloseTo(whole.loss, 5);
    const key = (names: string[], i: number) => names[i]!;
    whole.names.forEach((_, i) => {
      const g1 = whole.grads.get(key(whole.names, i))!;
      const g2 = chunked.grads.get(key(chunked.names, i))!;
      g1.forEach((v, j) => expect(g2[j]).toBeCloseTo(v, 4));
    });
    // running statistics: one update by the whole batch, num_batches_tracked + 1
    whole.buffers.forEach(([k, v], i) => {
      expect(chunked.buffers[i]![0]).toBe(k);
      v.forEach((e, j) => expect(chunked.buffers[i]![1][j]).toBeCloseTo(e, 5));
    });
    expect(whole.buffers.find(([k]) => k.endsWith('num_batches_tracked'))![1]).toEqual([1]);
  });

  it("'per-chunk' normalizes each chunk in the head: different gradients (what the whole-batch head avoids)", async () => {
    const a = model();
    const b = model();
    b.loadStateDict(a.stateDict());
    const whole = await gradsOf(a, 100, 'whole-batch');
    const perChunk = await gradsOf(b, 3, 'per-chunk');
    expect(perChunk.wholeBatchHead).toBe(false);
    // over every parameter: the largest difference, relative to the largest gradient (a per-chunk head changes the
    // gradients by tens of percent; float rounding by ~1e-7)
    let diff = 0;
    let scale = 0;
    whole.names.forEach((name, i) => {
      const other = perChunk.grads.get(perChunk.names[i]!)!;
      whole.grads.get(name)!.forEach((v, j) => {
        diff = Math.max(diff, Math.abs(v - other[j]!));
        scale = Math.max(scale, Math.abs(v));
      });
    });
    expect(diff / scale).toBeGreaterThan(1e-2);
  });

  it("leaves the body's running statistics as the whole batch would (mean of the chunk means, total variance)", async () => {
    const withBn = (): Sequential =>
      new Sequential(
        new Sequential(new Conv2d(3, 6, 3, { padding: 1 }), new BatchNorm2d(6), new ReLU()),
        new Sequential(new AdaptiveConcatPool2d(), new Flatten(), new BatchNorm1d(12), new Linear(12, 2)),
      );
    const a = withBn();
    const b = withBn();
    b.loadStateDict(a.stateDict());
    const whole = await gradsOf(a, 100, 'whole-batch');
    const chunked = await gradsOf(b, 3, 'whole-batch'); // class 0 alone in the first chunk: its mean is off by ~1
    const get = (r: typeof whole, k: string) => r.buffers.find(([n]) => n === k)![1];
    for (const k of ['0.1.running_mean', '0.1.running_var']) {
      const w = get(whole, k);
      const c = get(chunked, k);
      // the whole batch's unbiased variance divides by N - 1, the chunks' by n_i - 1: a 1% difference at most here
      w.forEach((v, j) => expect(Math.abs(c[j]! - v)).toBeLessThan(0.01 * Math.abs(v) + 1e-6));
    }
    expect(get(chunked, '0.1.num_batches_tracked')).toEqual([1]);
    expect(get(chunked, '1.2.num_batches_tracked')).toEqual([1]);
  });
});

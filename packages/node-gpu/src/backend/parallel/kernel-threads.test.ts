import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { attachKernelThreads, KernelThreadPool, probeKernelThreads } from '@fastts/core/kernels';
import { registerMissingKernels } from '@fastts/core/kernels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relativeError } from '../../../../../test-support/numeric.js';
import { enableRelaxedSimd, registerWasmBackend } from '../wasm.js';
import { startKernelThreads, type KernelThreadsHandle } from './kernel-threads.js';

let seed = 7;
function random(shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    v[i] = seed / 1073741824 - 1;
  }
  return tf.tensor(v, shape);
}

interface Case {
  n: number;
  hw: number;
  ci: number;
  co: number;
  k: number;
  s: number;
}

/** Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter of a case on the active backend. */
function convs(c: Case, inputs: { x: Float32Array; w: Float32Array; dy: Float32Array }): Float32Array[] {
  return tf.tidy(() => {
    const oh = Math.ceil(c.hw / c.s);
    const x = tf.tensor4d(inputs.x, [c.n, c.hw, c.hw, c.ci]);
    const w = tf.tensor4d(inputs.w, [c.k, c.k, c.ci, c.co]);
    const dy = tf.tensor4d(inputs.dy, [c.n, oh, oh, c.co]);
    const attrs = { strides: [c.s, c.s], pad: 'same', dataFormat: 'NHWC' };
    return [
      tf.conv2d(x, w, c.s, 'same'),
      tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape } as never) as tf.Tensor,
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape } as never) as tf.Tensor,
    ].map((t) => t.dataSync() as Float32Array);
  });
}

function caseInputs(c: Case): { x: Float32Array; w: Float32Array; dy: Float32Array } {
  const oh = Math.ceil(c.hw / c.s);
  return tf.tidy(() => ({
    x: random([c.n, c.hw, c.hw, c.ci]).dataSync() as Float32Array,
    w: random([c.k, c.k, c.ci, c.co]).dataSync() as Float32Array,
    dy: random([c.n, oh, oh, c.co]).dataSync() as Float32Array,
  }));
}

describe('kernel threads: one wasm replica, its convolutions on several threads sharing its heap', () => {
  let handle: KernelThreadsHandle;
  let alone: KernelThreadPool;
  const backend = (): never => tf.backend() as never;

  beforeAll(async () => {
    registerWasmBackend(3);
    expect(await tf.setBackend('wasm')).toBe(true);
    enableRelaxedSimd();
    registerMissingKernels('wasm');
    handle = await startKernelThreads(3);
    // the same engine with no helper: every item on the calling thread
    alone = new KernelThreadPool(
      (tf.backend() as unknown as { wasm: { wasmMemory: { buffer: SharedArrayBuffer } } }).wasm.wasmMemory,
      0,
    );
  });
  afterAll(async () => {
    await handle?.stop();
  });

  it('runs job items on the helper threads', () => {
    // items of ~1 ms each: the helpers wake and take some (a few tries on a machine busy with other work)
    let threads = new Set<number>();
    for (let attempt = 0; attempt < 5 && threads.size < 2; attempt++) threads = new Set(probeKernelThreads(backend(), 48));
    expect(handle.size).toBe(3);
    expect(threads.size).toBeGreaterThan(1);
    expect([...threads].every((t) => t >= 0 && t < 3)).toBe(true);
  });

  it('gives the results of one thread for BatchNorm statistics, forward and backward, and max-pool gradients', () => {
    const x = random([4, 9, 11, 24]);
    const dy = random([4, 9, 11, 24]);
    const mean = random([24]);
    const variance = tf.tidy(() => tf.add(tf.abs(random([24])), 0.1));
    const gamma = random([24]);
    const beta = random([24]);
    const run = (): Float32Array[] =>
      tf.tidy(() => {
        const engine = tf.engine();
        const stats = engine.runKernel('FasttsBatchNormStats', { x }, {}) as unknown as tf.Tensor[];
        const grad = engine.runKernel(
          'FasttsBatchNormGrad',
          { dy, x, mean, variance, gamma },
          { eps: 1e-5 },
        ) as unknown as tf.Tensor[];
        const apply = engine.runKernel('FasttsBatchNormApply', { x, mean, variance, gamma, beta }, { eps: 1e-5 }) as tf.Tensor;
        const pooled = tf.maxPool(x as tf.Tensor4D, 3, 2, 'same');
        const pool = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 3, 2, 'same'), random(pooled.shape))))(
          x,
        );
        return [...stats, ...grad, apply, pool].map((t) => t.dataSync() as Float32Array);
      });
    const s0 = seed;
    attachKernelThreads(backend(), alone);
    const one = run();
    seed = s0;
    attachKernelThreads(backend(), handle.pool);
    const three = run();
    one.forEach((v, i) => expect(Array.from(three[i]!)).toEqual(Array.from(v)));
    tf.dispose([x, dy, mean, variance, gamma, beta]);
  });

  // Winograd (single block; many blocks and stripes of the weight gradient), stride 2 and 1x1 (direct)
  const cases: Case[] = [
    { n: 2, hw: 13, ci: 16, co: 24, k: 3, s: 1 },
    { n: 2, hw: 84, ci: 64, co: 64, k: 3, s: 1 },
    { n: 2, hw: 15, ci: 16, co: 32, k: 3, s: 2 },
    { n: 2, hw: 14, ci: 32, co: 16, k: 1, s: 1 },
    { n: 2, hw: 23, ci: 3, co: 16, k: 7, s: 2 },
  ];
  for (const c of cases) {
    it(`gives the results of one thread: ${c.n}x${c.hw}x${c.hw}x${c.ci} -> ${c.co}, ${c.k}x${c.k}/${c.s}`, async () => {
      const inputs = caseInputs(c);
      attachKernelThreads(backend(), alone);
      const one = convs(c, inputs);
      attachKernelThreads(backend(), handle.pool);
      const three = convs(c, inputs);
      // every item's arithmetic is the same whichever thread runs it, and the weight gradients' partial sums go
      // per fixed stripe of blocks, added in a fixed order: the same numbers to the bit
      three.forEach((r, i) => expect(Array.from(r)).toEqual(Array.from(one[i]!)));
      if (c.hw < 50) {
        // and the results of the cpu backend (too slow for the large case, checked against one thread only)
        await tf.setBackend('cpu');
        const ref = convs(c, inputs);
        await tf.setBackend('wasm');
        three.forEach((r, i) => expect(relativeError(r, ref[i]!)).toBeLessThan(1e-4));
      }
    });
  }
});

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relativeError } from '../../../../test-support/numeric.js';
import { registerMissingKernels } from './register.js';

/**
 * A replica whose wasm heap grows past 2 GB (ResNet-34 at 224 px with micro-batches of 16) has tensors at byte
 * offsets ≥ 2³¹: the SIMD engine must treat them as unsigned (`>> 2` on such an offset is a negative index and
 * the kernels read and write the wrong memory: "memory access out of bounds").
 */
interface WasmInternals {
  wasm: { _malloc(bytes: number): number; _free(p: number): void };
  dataIdMap: { get(id: object): { memoryOffset: number } };
}

let seed = 7;
function random(shape: number[]): { shape: number[]; values: Float32Array } {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    values[i] = seed / 1073741824 - 1;
  }
  return { shape, values };
}

async function runOn(
  backend: string,
  kernel: string,
  inputs: Record<string, { shape: number[]; values: Float32Array }>,
  attrs: Record<string, unknown>,
): Promise<{ values: Float32Array; offset: number }> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const ins: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) ins[k] = tf.tensor(v.values, v.shape, 'float32');
    const out = tf.engine().runKernel(kernel, ins as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
    const offset = backend === 'wasm' ? (tf.backend() as unknown as WasmInternals).dataIdMap.get(out.dataId).memoryOffset : 0;
    return { values: out.dataSync() as Float32Array, offset };
  });
}

async function compare(kernel: string, inputs: Record<string, ReturnType<typeof random>>, attrs: Record<string, unknown>) {
  const ref = await runOn('cpu', kernel, inputs, attrs);
  const got = await runOn('wasm', kernel, inputs, attrs);
  expect(got.offset).toBeGreaterThanOrEqual(2 ** 31);
  expect(relativeError(got.values, ref.values)).toBeLessThan(1e-4);
}

describe('the SIMD kernels on a wasm heap past 2 GB', () => {
  const held: number[] = [];
  beforeAll(async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    registerMissingKernels('wasm');
    const { wasm } = tf.backend() as unknown as WasmInternals;
    // 2.1 GB reserved and never touched (its pages stay unmapped), then the free space below it filled, so that
    // every later allocation lies above 2³¹
    held.push(wasm._malloc(2.1e9) >>> 0);
    expect(held[0]).toBeGreaterThan(0);
    for (const size of [1 << 20, 1 << 10, 64]) {
      for (;;) {
        const p = wasm._malloc(size) >>> 0;
        if (p >= 2 ** 31) {
          wasm._free(p);
          break;
        }
        held.push(p);
      }
    }
  });
  afterAll(async () => {
    await tf.setBackend('wasm');
    const { wasm } = tf.backend() as unknown as WasmInternals;
    for (const p of held) wasm._free(p);
  });

  const conv = { dataFormat: 'NHWC', dilations: [1, 1] };
  it('Winograd convolution, input and weight gradients', async () => {
    const x = random([2, 8, 8, 16]);
    const f = random([3, 3, 16, 16]);
    const dy = random([2, 8, 8, 16]);
    await compare('Conv2D', { x, filter: f }, { ...conv, strides: [1, 1], pad: 'same' });
    await compare('Conv2DBackpropInput', { dy, filter: f }, { ...conv, strides: [1, 1], pad: 'same', inputShape: [2, 8, 8, 16] });
    await compare('Conv2DBackpropFilter', { x, dy }, { ...conv, strides: [1, 1], pad: 'same', filterShape: [3, 3, 16, 16] });
  });

  it('direct convolutions: the stem (7x7/2, 3 channels), stride 2 and its gradients', async () => {
    await compare('Conv2D', { x: random([2, 15, 13, 3]), filter: random([7, 7, 3, 16]) }, { ...conv, strides: [2, 2], pad: 3 });
    const x = random([2, 9, 10, 8]);
    const dy = random([2, 5, 5, 16]);
    await compare(
      'Conv2DBackpropInput',
      { dy, filter: random([3, 3, 8, 16]) },
      { ...conv, strides: [2, 2], pad: 1, inputShape: [2, 9, 10, 8] },
    );
    await compare('Conv2DBackpropFilter', { x, dy }, { ...conv, strides: [2, 2], pad: 1, filterShape: [3, 3, 8, 16] });
  });

  it('max pool gradient and per-channel sums', async () => {
    const input = random([2, 12, 11, 16]);
    const attrs = { filterSize: 3, strides: 2, pad: 1 };
    const output = await runOn('cpu', 'MaxPool', { x: input }, attrs);
    await compare(
      'MaxPoolGrad',
      { dy: random([2, 6, 6, 16]), input, output: { shape: [2, 6, 6, 16], values: output.values } },
      attrs,
    );
    await compare('Sum', { x: random([4, 6, 5, 16]) }, { axis: [0, 1, 2], keepDims: false });
  });
});

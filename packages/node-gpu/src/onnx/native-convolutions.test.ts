/**
 * ONNX Runtime under the wasm engine's convolutions: every op it accepts gives the wasm engine's result (to 1e-4 of
 * the largest value), fused bias and activations included, and it leaves alone what it does not accept. Needs
 * `onnxruntime-node` (an optional dependency that `npm ci` installs here): these tests fail, not skip, without it.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { nativeConvolutions, registerMissingKernels, setNativeConvolutions } from '@fastts/core/kernels';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInNewContext } from 'node:vm';
import { enableNativeConvolutions, NATIVE_CONV_ENV, v8Collector, type OrtConvolutions } from './native-convolutions.js';

interface Case {
  name: string;
  n: number;
  hw: number;
  ci: number;
  co: number;
  k: number;
  s: number;
  pad: 'same' | 'valid' | number;
  native: boolean;
}

const CASES: Case[] = [
  { name: '1x1', n: 2, hw: 9, ci: 16, co: 24, k: 1, s: 1, pad: 'valid', native: true },
  {
    name: '1x1 with 4.7 MB of output per image (one call per image)',
    n: 3,
    hw: 48,
    ci: 16,
    co: 512,
    k: 1,
    s: 1,
    pad: 'valid',
    native: true,
  },
  { name: '1x1 stride 2, odd size', n: 2, hw: 9, ci: 16, co: 8, k: 1, s: 2, pad: 'valid', native: true },
  { name: '1x1 stride 2, even size', n: 1, hw: 8, ci: 16, co: 16, k: 1, s: 2, pad: 'valid', native: true },
  { name: '3x3 stride 2 same', n: 2, hw: 10, ci: 16, co: 16, k: 3, s: 2, pad: 'same', native: true },
  { name: '3x3 stride 2 pad 1 (torchvision)', n: 2, hw: 9, ci: 24, co: 16, k: 3, s: 2, pad: 1, native: true },
  { name: '7x7 stride 2 pad 3', n: 2, hw: 20, ci: 16, co: 8, k: 7, s: 2, pad: 3, native: true },
  { name: '7x7 stride 2 on 3 channels (stem stays)', n: 2, hw: 20, ci: 3, co: 8, k: 7, s: 2, pad: 3, native: false },
  { name: '3x3 stride 1 small image', n: 2, hw: 7, ci: 16, co: 16, k: 3, s: 1, pad: 'same', native: true },
  { name: '3x3 stride 1 large image (Winograd stays)', n: 1, hw: 20, ci: 8, co: 8, k: 3, s: 1, pad: 'same', native: false },
  // whole NCHWc blocks (16 or 8 channels), output ≥ 14×14: ONNX Runtime's blocked direct convolution
  { name: '3x3 stride 1 at 16x16, blocked', n: 2, hw: 16, ci: 16, co: 32, k: 3, s: 1, pad: 'same', native: true },
  { name: '3x3 stride 1 at 14x14 valid, blocked', n: 1, hw: 16, ci: 32, co: 16, k: 3, s: 1, pad: 'valid', native: true },
  { name: '3x3 stride 2 pad 1 at 29->15, blocked', n: 2, hw: 29, ci: 16, co: 16, k: 3, s: 2, pad: 1, native: true },
  { name: '5x5 stride 1 pad 2 at 14x14, blocked', n: 1, hw: 14, ci: 16, co: 16, k: 5, s: 1, pad: 2, native: true },
];

let provider: OrtConvolutions | null;

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  registerMissingKernels('wasm');
  provider = await enableNativeConvolutions(1, { enabled: true });
});

afterAll(() => {
  provider?.clear();
  setNativeConvolutions(null);
});

const ops = (c: Case, x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D, bias: tf.Tensor1D): Record<string, tf.Tensor> => ({
  forward: tf.conv2d(x, w, c.s, c.pad),
  fusedBiasRelu: tf.fused.conv2d({ x, filter: w, strides: c.s, pad: c.pad, bias, activation: 'relu' }),
  inputGradient: tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, {
    strides: [c.s, c.s],
    pad: c.pad,
    dataFormat: 'NHWC',
    inputShape: x.shape,
  } as never) as tf.Tensor,
  filterGradient: tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
    strides: [c.s, c.s],
    pad: c.pad,
    dataFormat: 'NHWC',
    filterShape: w.shape,
  } as never) as tf.Tensor,
});

function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let max = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    max = Math.max(max, Math.abs(b[i]!));
  }
  return diff / max;
}

describe('native convolutions through ONNX Runtime', () => {
  it('registers when onnxruntime-node is installed, with the NCHWc block size of this CPU', () => {
    expect(provider).not.toBeNull();
    expect(nativeConvolutions()?.name).toBe('onnxruntime');
    expect([8, 16]).toContain(provider!.block);
  });

  for (const c of CASES) {
    it(`${c.name}: the wasm engine's results${c.native ? '' : ', without a native call'}`, () => {
      const x = tf.randomNormal([c.n, c.hw, c.hw, c.ci], 0, 1, 'float32', 1) as tf.Tensor4D;
      const w = tf.randomNormal([c.k, c.k, c.ci, c.co], 0, 0.2, 'float32', 2) as tf.Tensor4D;
      const y = tf.conv2d(x, w, c.s, c.pad);
      const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 3) as tf.Tensor4D;
      const bias = tf.randomNormal([c.co], 0, 1, 'float32', 4) as tf.Tensor1D;
      setNativeConvolutions(null);
      const reference = ops(c, x, w, dy, bias);
      setNativeConvolutions(provider);
      const before = provider!.size;
      const native = ops(c, x, w, dy, bias);
      for (const [op, t] of Object.entries(native)) {
        expect(t.shape, op).toEqual(reference[op]!.shape);
        expect(relativeError(t.dataSync() as Float32Array, reference[op]!.dataSync() as Float32Array), op).toBeLessThan(1e-4);
      }
      if (c.native) expect(provider!.size).toBeGreaterThan(before);
      else expect(provider!.size).toBe(before);
      tf.dispose([x, w, y, dy, bias, ...Object.values(reference), ...Object.values(native)]);
    });
  }

  it('takes operands on shared memory (the heap of a multi-threaded replica) by copying them', () => {
    const g = {
      batch: 2,
      inHeight: 6,
      inWidth: 6,
      inChannels: 16,
      outHeight: 6,
      outWidth: 6,
      outChannels: 8,
      filterHeight: 1,
      filterWidth: 1,
      strideHeight: 1,
      strideWidth: 1,
      dilationHeight: 1,
      dilationWidth: 1,
      padTop: 0,
      padLeft: 0,
    };
    const fusion = { bias: false, act: 0 as const };
    const [na, nb, nout] = [2 * 36 * 16, 16 * 8, 2 * 36 * 8];
    const plain = { a: new Float32Array(na).map(() => Math.random() - 0.5), b: new Float32Array(nb).map(() => Math.random()) };
    const expected = new Float32Array(nout);
    provider!.run({ op: 'forward', geometry: g, fusion, ...plain, bias: null, out: expected });
    const shared = new SharedArrayBuffer((na + nb + nout) * 4);
    const a = new Float32Array(shared, 0, na);
    const b = new Float32Array(shared, na * 4, nb);
    const out = new Float32Array(shared, (na + nb) * 4, nout);
    a.set(plain.a);
    b.set(plain.b);
    provider!.run({ op: 'forward', geometry: g, fusion, a, b, bias: null, out });
    expect(Array.from(out)).toEqual(Array.from(expected));
    expect(expected.some((v) => v !== 0)).toBe(true);
  });

  it("gets V8's collector for young-generation collections without leaving a gc global behind", () => {
    const collect = v8Collector();
    expect(typeof collect).toBe('function');
    expect(() => collect!({ type: 'minor' })).not.toThrow();
    // the flag was set back: neither this context nor a new one sees a gc function
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });

  it(`is on unless ${NATIVE_CONV_ENV}=0`, async () => {
    const saved = process.env[NATIVE_CONV_ENV];
    try {
      process.env[NATIVE_CONV_ENV] = '0';
      expect(await enableNativeConvolutions(1)).toBeNull();
      expect(nativeConvolutions()).toBeNull();
      delete process.env[NATIVE_CONV_ENV];
      const on = await enableNativeConvolutions(1);
      expect(on?.name).toBe('onnxruntime');
      expect(nativeConvolutions()).toBe(on);
      on?.clear();
    } finally {
      if (saved === undefined) delete process.env[NATIVE_CONV_ENV];
      else process.env[NATIVE_CONV_ENV] = saved;
      setNativeConvolutions(provider);
    }
  });
});

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relativeError } from '../../../../test-support/numeric.js';
import '../gradients.js';
import { KernelCompositionError } from './errors.js';
import { clearFilterCache, filterCacheSize } from './filter-cache.js';
import { registerMissingKernels, unregisterComposedKernels } from './register.js';
import { pointwiseCalls } from './simd/direct-conv.js';
import { setWinogradBlockBytes, setWinogradConvolutions, setWinogradPassBytes } from './simd/winograd.js';

type Pad = 'same' | 'valid' | number;

/** Runs one kernel through the engine on `backend` with inputs copied there; returns its values. */
async function runOn(
  backend: string,
  kernel: string,
  inputs: Record<string, { shape: number[]; values: Float32Array }>,
  attrs: Record<string, unknown>,
): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const ins: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) ins[k] = tf.tensor(v.values, v.shape, 'float32');
    const out = tf.engine().runKernel(kernel, ins as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
    return { shape: out.shape, values: out.dataSync() as Float32Array };
  });
}

let seed = 12345;
function random(shape: number[]): { shape: number[]; values: Float32Array } {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    values[i] = seed / 1073741824 - 1;
  }
  return { shape, values };
}

function outSize(inSize: number, k: number, s: number, pad: Pad): number {
  if (pad === 'same') return Math.ceil(inSize / s);
  if (pad === 'valid') return Math.ceil((inSize - k + 1) / s);
  return Math.floor((inSize + 2 * pad - k) / s) + 1;
}

async function compare(
  kernel: string,
  inputs: Record<string, { shape: number[]; values: Float32Array }>,
  attrs: Record<string, unknown>,
): Promise<void> {
  const ref = await runOn('cpu', kernel, inputs, attrs);
  const got = await runOn('wasm', kernel, inputs, attrs);
  expect(got.shape).toEqual(ref.shape);
  expect(relativeError(got.values, ref.values)).toBeLessThan(1e-4);
}

interface Case {
  n: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  s: number;
  pad: Pad;
}

// Strides 1 and 2, paddings same/valid/explicit, odd and even sizes, square and non-square filters.
const CASES: Case[] = [
  { n: 2, h: 7, w: 9, cin: 3, cout: 5, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 2, h: 7, w: 9, cin: 3, cout: 5, kh: 3, kw: 3, s: 2, pad: 'same' },
  { n: 2, h: 8, w: 8, cin: 4, cout: 6, kh: 3, kw: 3, s: 2, pad: 'same' },
  { n: 1, h: 9, w: 7, cin: 5, cout: 4, kh: 3, kw: 3, s: 1, pad: 'valid' },
  { n: 3, h: 9, w: 11, cin: 2, cout: 3, kh: 3, kw: 3, s: 2, pad: 'valid' },
  { n: 2, h: 11, w: 10, cin: 3, cout: 4, kh: 3, kw: 3, s: 2, pad: 1 },
  { n: 2, h: 10, w: 10, cin: 3, cout: 4, kh: 3, kw: 3, s: 1, pad: 1 },
  { n: 2, h: 13, w: 12, cin: 3, cout: 8, kh: 7, kw: 7, s: 2, pad: 3 },
  { n: 2, h: 9, w: 9, cin: 6, cout: 4, kh: 1, kw: 1, s: 2, pad: 'valid' },
  { n: 2, h: 6, w: 7, cin: 6, cout: 4, kh: 1, kw: 1, s: 1, pad: 'valid' },
  { n: 2, h: 9, w: 8, cin: 3, cout: 2, kh: 2, kw: 3, s: 2, pad: 'same' },
  { n: 1, h: 12, w: 12, cin: 2, cout: 3, kh: 5, kw: 5, s: 3, pad: 'same' },
  // several 8-wide output panels and 4-wide input-channel tiles
  { n: 2, h: 10, w: 9, cin: 12, cout: 24, kh: 3, kw: 3, s: 2, pad: 'same' },
  { n: 2, h: 8, w: 8, cin: 16, cout: 32, kh: 3, kw: 3, s: 1, pad: 1 },
  // input channels a multiple of 8 (gradients written in place), stride 2, and a 1x1/2 (phases with no tap)
  { n: 2, h: 9, w: 10, cin: 8, cout: 16, kh: 3, kw: 3, s: 2, pad: 1 },
  { n: 1, h: 8, w: 8, cin: 16, cout: 8, kh: 1, kw: 1, s: 2, pad: 'valid' },
  // narrow inputs (taps along a filter row merged into one row of kw·Ci): resnet's stem, and stride 1
  { n: 2, h: 15, w: 13, cin: 3, cout: 16, kh: 7, kw: 7, s: 2, pad: 3 },
  { n: 2, h: 7, w: 9, cin: 3, cout: 8, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 1, h: 6, w: 7, cin: 5, cout: 8, kh: 2, kw: 4, s: 1, pad: 'valid' },
  // 1x1 stride 1 with channels multiples of 8: a plain GEMM (35 pixels: a partial last group of 4)
  { n: 1, h: 5, w: 7, cin: 16, cout: 24, kh: 1, kw: 1, s: 1, pad: 'valid' },
];

const label = (c: Case): string => `${c.n}x${c.h}x${c.w}x${c.cin} k${c.kh}x${c.kw} s${c.s} pad ${String(c.pad)}`;

type Values = { shape: number[]; values: Float32Array };
type KernelRun = [kernel: string, inputs: Record<string, Values>, attrs: Record<string, unknown>];

/** A case's Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter calls, on fresh random inputs. */
function convRuns(c: Case): KernelRun[] {
  const oh = outSize(c.h, c.kh, c.s, c.pad);
  const ow = outSize(c.w, c.kw, c.s, c.pad);
  const common = { strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC' };
  const filterShape = [c.kh, c.kw, c.cin, c.cout];
  return [
    ['Conv2D', { x: random([c.n, c.h, c.w, c.cin]), filter: random(filterShape) }, { ...common, dilations: [1, 1] }],
    [
      'Conv2DBackpropInput',
      { dy: random([c.n, oh, ow, c.cout]), filter: random(filterShape) },
      { ...common, inputShape: [c.n, c.h, c.w, c.cin] },
    ],
    [
      'Conv2DBackpropFilter',
      { x: random([c.n, c.h, c.w, c.cin]), dy: random([c.n, oh, ow, c.cout]) },
      { ...common, filterShape },
    ],
  ];
}

describe('composed gradient kernels on wasm match the cpu reference kernels', () => {
  beforeAll(async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    const report = registerMissingKernels('wasm');
    expect(report.added).toEqual(
      expect.arrayContaining([
        'Conv2DBackpropFilter',
        'DepthwiseConv2dNativeBackpropFilter',
        'DepthwiseConv2dNativeBackpropInput',
      ]),
    );
    expect(report.replaced).toEqual(['Conv2DBackpropInput', 'MaxPoolGrad']);
    expect(report.unavailable).toEqual([]);
    expect(report.simd).toEqual([
      'Conv2D',
      'FusedConv2D',
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'Sum',
      'FasttsBatchNormStats',
      'FasttsBatchNormApply',
      'FasttsBatchNormGrad',
      'FasttsReluGrad',
    ]);
  });
  afterAll(() => unregisterComposedKernels('wasm'));

  for (const c of CASES) {
    const oh = outSize(c.h, c.kh, c.s, c.pad);
    const ow = outSize(c.w, c.kw, c.s, c.pad);
    for (const [kernel, inputs, attrs] of convRuns(c)) {
      it(`${kernel} ${label(c)}`, async () => {
        await compare(kernel, inputs, attrs);
      });
    }
    for (const m of [1, 2]) {
      it(`DepthwiseConv2dNativeBackpropFilter ${label(c)} multiplier ${m}`, async () => {
        await compare(
          'DepthwiseConv2dNativeBackpropFilter',
          { x: random([c.n, c.h, c.w, c.cin]), dy: random([c.n, oh, ow, c.cin * m]) },
          { strides: [c.s, c.s], dilations: [1, 1], pad: c.pad, filterShape: [c.kh, c.kw, c.cin, m] },
        );
      });
      it(`DepthwiseConv2dNativeBackpropInput ${label(c)} multiplier ${m}`, async () => {
        await compare(
          'DepthwiseConv2dNativeBackpropInput',
          { dy: random([c.n, oh, ow, c.cin * m]), filter: random([c.kh, c.kw, c.cin, m]) },
          { strides: [c.s, c.s], dilations: [1, 1], pad: c.pad, inputShape: [c.n, c.h, c.w, c.cin] },
        );
      });
    }
  }

  for (const activation of ['linear', 'relu', 'relu6']) {
    it(`FusedConv2D with bias and ${activation} matches (as folded conv+BatchNorm layers run in eval mode)`, async () => {
      // scale the filter so that some outputs exceed 6 (relu6's clamp)
      const f = random([3, 3, 16, 20]);
      f.values = f.values.map((v) => v * 4);
      await compare(
        'FusedConv2D',
        { x: random([2, 9, 8, 16]), filter: f, bias: random([20]) },
        { strides: [2, 2], pad: 1, dataFormat: 'NHWC', dilations: [1, 1], activation, leakyreluAlpha: 0.2 },
      );
      await compare(
        'FusedConv2D',
        { x: random([3, 7, 7, 8]), filter: random([3, 3, 8, 8]) },
        { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], activation, leakyreluAlpha: 0.2 },
      );
    });
  }

  for (const [shape, axis, keepDims] of [
    [[3, 5, 7, 16], [0, 1, 2], false],
    [[3, 5, 7, 16], [2, 0, 1], true],
    [[40, 24], 0, false],
    [[2, 3, 4, 16], [1, 2], false], // not every leading axis: the backend's own kernel
    [[3, 5, 12], [0, 1], true], // channels not a multiple of 8: the backend's own kernel
  ] as Array<[number[], number | number[], boolean]>) {
    it(`Sum of [${shape.join(', ')}] over ${JSON.stringify(axis)}${keepDims ? ' (keepDims)' : ''} matches (bias gradients)`, async () => {
      await compare('Sum', { x: random(shape) }, { axis, keepDims });
    });
  }

  for (const shape of [
    [2, 5, 7, 3],
    [3, 150, 151, 1],
  ])
    it(`ReLU's gradient on [${shape.join(', ')}] is one kernel and matches tfjs' composition on cpu`, async () => {
      const x = random(shape);
      x.values = x.values.map((v, i) => (i % 5 === 0 ? 0 : v)); // exact zeros get no gradient, as step(0) = 0
      const dy = random(shape);
      const grad = async (backend: string): Promise<Float32Array> => {
        await tf.setBackend(backend);
        return tf.tidy(() => {
          const xs = tf.tensor(x.values, shape);
          const g = tf.grad((v: tf.Tensor) => tf.relu(v))(xs, tf.tensor(dy.values, shape));
          return g.dataSync() as Float32Array;
        });
      };
      const ref = await grad('cpu');
      await tf.setBackend('wasm');
      const profile = await tf.profile(() => tf.grad((v: tf.Tensor) => tf.relu(v))(tf.tensor(x.values, shape)));
      expect(profile.kernels.map((k) => k.name)).toContain('FasttsReluGrad');
      expect(profile.kernels.map((k) => k.name)).not.toContain('Step');
      // tfjs' mul(dy, 0) gives -0 where dy < 0; the kernel gives +0 (the same number to every consumer)
      const plusZero = (a: Float32Array): number[] => Array.from(a, (v) => v + 0);
      expect(plusZero(await grad('wasm'))).toEqual(plusZero(ref));
    });

  it('Identity (tf.clone, every tensor saved for a gradient) shares the data instead of copying it', () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const buffers = tf.memory().numDataBuffers;
    const y = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(buffers);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(v, v)))(y);
    expect(Array.from(grad.dataSync())).toEqual([2, 4, 6, 8, 10, 12]);
    tf.dispose([y, grad]);
    expect(tf.memory().numDataBuffers).toBe(buffers - 1);
    const s = tf.clone(tf.tensor1d(['a', 'b'], 'string'));
    expect(s.dataSync()).toEqual(['a', 'b']);
    s.dispose();
  });

  it('runs 1x1 stride-1 convolutions (channels multiples of 8) as a plain GEMM, forward and input gradient', async () => {
    const before = { ...pointwiseCalls };
    for (const [kernel, inputs, attrs] of convRuns({ n: 2, h: 9, w: 5, cin: 24, cout: 16, kh: 1, kw: 1, s: 1, pad: 'same' }))
      await compare(kernel, inputs, attrs);
    expect(pointwiseCalls.forward).toBe(before.forward + 1);
    expect(pointwiseCalls.backpropInput).toBe(before.backpropInput + 1);
  });

  it('Conv2D with dilation 2, wide channels and a partial last tile matches', async () => {
    await compare(
      'Conv2D',
      { x: random([3, 9, 10, 12]), filter: random([3, 3, 12, 20]) },
      { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [2, 2] },
    );
    await compare(
      'Conv2D',
      { x: random([1, 5, 7, 33]), filter: random([1, 1, 33, 17]) },
      { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] },
    );
    await compare(
      'Conv2DBackpropFilter',
      { x: random([3, 9, 10, 12]), dy: random([3, 9, 10, 20]) },
      { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 12, 20] },
    );
  });

  for (const [label2, shape, k, s, pad] of [
    ['resnet stem 3x3/2 pad 1 on relu output (ties at 0)', [2, 12, 11, 5], 3, 2, 1],
    ['2x2/2 valid', [1, 8, 8, 3], 2, 2, 'valid'],
    ['3x3/1 same', [2, 7, 9, 4], 3, 1, 'same'],
    ['3x3/2 pad 1, 16 channels (the SIMD kernel, ties at 0)', [2, 13, 12, 16], 3, 2, 1],
    ['2x2/2 valid, 12 channels', [3, 8, 9, 12], 2, 2, 'valid'],
  ] as const) {
    it(`MaxPoolGrad ${label2} routes dy like the cpu kernel`, async () => {
      const x = random([...shape]);
      // relu: many exact zeros, so windows with ties exist
      x.values = x.values.map((v) => Math.max(0, v));
      const outShape = (await runOn('cpu', 'MaxPool', { x }, { filterSize: k, strides: s, pad, dimRoundingMode: undefined }))
        .shape;
      const output = await runOn('cpu', 'MaxPool', { x }, { filterSize: k, strides: s, pad });
      await compare('MaxPoolGrad', { dy: random(outShape), input: x, output }, { filterSize: k, strides: s, pad });
    });
  }

  it('rectangular strides (2, 1) interleave phases without DepthToSpace', async () => {
    const x = random([2, 9, 8, 3]);
    const dy = random([2, 5, 8, 4]);
    const f = random([3, 3, 3, 4]);
    await compare(
      'Conv2DBackpropInput',
      { dy, filter: f },
      { strides: [2, 1], pad: 'same', dataFormat: 'NHWC', inputShape: [2, 9, 8, 3] },
    );
    await compare(
      'Conv2DBackpropFilter',
      { x, dy },
      { strides: [2, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] },
    );
  });

  it('gives the same gradients as cpu through tf.grad of a small conv net (conv, depthwise, strides, pads)', async () => {
    const x = random([2, 11, 11, 3]);
    const w1 = random([3, 3, 3, 8]);
    const w2 = random([3, 3, 8, 1]);
    const w3 = random([1, 1, 8, 4]);
    const grads = async (backend: string): Promise<Float32Array[]> => {
      await tf.setBackend(backend);
      return tf.tidy(() => {
        const [xt, a, b, c] = [x, w1, w2, w3].map((t) => tf.tensor4d(t.values, t.shape as [number, number, number, number])) as [
          tf.Tensor4D,
          tf.Tensor4D,
          tf.Tensor4D,
          tf.Tensor4D,
        ];
        const f = (xx: tf.Tensor4D, aa: tf.Tensor4D, bb: tf.Tensor4D, cc: tf.Tensor4D): tf.Scalar => {
          let h = tf.relu(tf.conv2d(xx, aa, 2, 1));
          h = tf.relu6(tf.depthwiseConv2d(h, bb, 1, 'same'));
          h = tf.conv2d(h, cc, 2, 'valid');
          return tf.sum(tf.square(h));
        };
        const gs = tf.grads(f as (...args: tf.Tensor[]) => tf.Tensor)([xt, a, b, c]);
        return gs.map((g) => g.dataSync() as Float32Array);
      });
    };
    const ref = await grads('cpu');
    const got = await grads('wasm');
    ref.forEach((r, i) => expect(relativeError(got[i]!, r)).toBeLessThan(1e-4));
  });

  it('leaks no tensors on the backend', async () => {
    await tf.setBackend('wasm');
    clearFilterCache();
    const before = tf.memory().numTensors;
    const backendBefore = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    tf.tidy(() => {
      const x = tf.randomNormal([2, 9, 9, 4]) as tf.Tensor4D;
      const w = tf.randomNormal([3, 3, 4, 4]) as tf.Tensor4D;
      const d = tf.randomNormal([3, 3, 4, 1]) as tf.Tensor4D;
      tf.grads((xx: tf.Tensor, ww: tf.Tensor, dd: tf.Tensor) =>
        tf.sum(tf.depthwiseConv2d(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same'), dd as tf.Tensor4D, 2, 'same')),
      )([x, w, d]);
    });
    expect(tf.memory().numTensors).toBe(before);
    clearFilterCache();
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(backendBefore);
  });

  it('reuses the rearranged filter while the filter lives, and frees it with the filter', async () => {
    await tf.setBackend('wasm');
    clearFilterCache();
    const dy = tf.randomNormal([2, 4, 4, 8]);
    const w = tf.tidy(() => tf.variable(tf.randomNormal([3, 3, 6, 8])));
    const run = (): tf.Tensor =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, {
        strides: [2, 2],
        pad: 'same',
        dataFormat: 'NHWC',
        inputShape: [2, 8, 8, 6],
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const first = run();
    // one sub-filter per stride phase (and, on the SIMD engine, each one's packed panels)
    const entries = filterCacheSize();
    expect([4, 8]).toContain(entries);
    const again = run();
    expect(filterCacheSize()).toBe(entries);
    expect(Array.from(again.dataSync())).toEqual(Array.from(first.dataSync()));
    tf.tidy(() => w.assign(tf.randomNormal([3, 3, 6, 8]))); // a new filter: the old one's entries go at the next call
    const third = run();
    expect(filterCacheSize()).toBe(entries);
    expect(Array.from(third.dataSync())).not.toEqual(Array.from(first.dataSync()));
    tf.dispose([first, again, third, dy, w]);
    clearFilterCache();
  });
});

// 3x3 stride-1 convolutions with at least 16 channels (multiples of 8) run as Winograd F(4x4, 3x3)
const WINOGRAD: Case[] = [
  { n: 2, h: 8, w: 8, cin: 16, cout: 24, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 3, h: 7, w: 9, cin: 24, cout: 16, kh: 3, kw: 3, s: 1, pad: 'same' },
  { n: 1, h: 9, w: 6, cin: 32, cout: 16, kh: 3, kw: 3, s: 1, pad: 'valid' },
  { n: 2, h: 5, w: 7, cin: 16, cout: 16, kh: 3, kw: 3, s: 1, pad: 2 },
  { n: 1, h: 10, w: 11, cin: 16, cout: 40, kh: 3, kw: 3, s: 1, pad: 1 },
  { n: 2, h: 1, w: 3, cin: 16, cout: 16, kh: 3, kw: 3, s: 1, pad: 'same' },
];

describe('Winograd F(4x4, 3x3) convolutions on the wasm SIMD engine match the cpu reference kernels', () => {
  beforeAll(async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    registerMissingKernels('wasm');
  });
  afterAll(() => {
    setWinogradConvolutions(true);
    unregisterComposedKernels('wasm');
  });

  it('runs large batches in groups of images (one image per pass here) with the same results', async () => {
    const runs = convRuns(WINOGRAD[1]!);
    try {
      for (const [kernel, inputs, attrs] of runs) {
        setWinogradPassBytes(128 * 1024 * 1024);
        const whole = await runOn('wasm', kernel, inputs, attrs);
        setWinogradPassBytes(1);
        await compare(kernel, inputs, attrs);
        const grouped = await runOn('wasm', kernel, inputs, attrs);
        expect(relativeError(grouped.values, whole.values)).toBeLessThan(1e-5);
      }
    } finally {
      setWinogradPassBytes(128 * 1024 * 1024);
    }
  });

  it('runs many blocks of tiles (16 per block here, the last one partial) with the same results', async () => {
    // 2 images of 5x6 tiles: 60 tiles, blocks of 16, 16, 16, 12; the weight gradient accumulates S over the blocks
    const runs = convRuns({ n: 2, h: 19, w: 23, cin: 16, cout: 24, kh: 3, kw: 3, s: 1, pad: 'same' });
    try {
      for (const [kernel, inputs, attrs] of runs) {
        const whole = await runOn('wasm', kernel, inputs, attrs);
        setWinogradBlockBytes(1, 1);
        await compare(kernel, inputs, attrs);
        const blocks = await runOn('wasm', kernel, inputs, attrs);
        setWinogradBlockBytes(4 << 20, 12 << 20);
        expect(relativeError(blocks.values, whole.values)).toBeLessThan(1e-5);
      }
    } finally {
      setWinogradBlockBytes(4 << 20, 12 << 20);
    }
  });

  for (const c of WINOGRAD) {
    const runs = convRuns(c);
    const f = random([3, 3, c.cin, c.cout]);
    f.values = f.values.map((v) => v * 4); // some outputs above 6 (relu6's clamp)
    for (const activation of ['linear', 'relu', 'relu6']) {
      runs.push([
        'FusedConv2D',
        { x: random([c.n, c.h, c.w, c.cin]), filter: f, bias: random([c.cout]) },
        { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1], activation, leakyreluAlpha: 0.2 },
      ]);
    }
    for (const [kernel, inputs, attrs] of runs) {
      it(`${kernel} ${label(c)}${kernel === 'FusedConv2D' ? ` ${String(attrs.activation)}` : ''}`, async () => {
        setWinogradConvolutions(true);
        await compare(kernel, inputs, attrs);
        // and it did take the Winograd path: the direct kernel rounds differently
        const winograd = await runOn('wasm', kernel, inputs, attrs);
        setWinogradConvolutions(false);
        const direct = await runOn('wasm', kernel, inputs, attrs);
        setWinogradConvolutions(true);
        expect(relativeError(winograd.values, direct.values)).toBeLessThan(1e-4);
        expect(Array.from(winograd.values)).not.toEqual(Array.from(direct.values));
      });
    }
  }
});

describe('registerMissingKernels', () => {
  it('adds nothing to a backend that has every kernel, unless asked to replace', () => {
    const report = registerMissingKernels('cpu', { replace: [] });
    expect(report).toEqual({ backend: 'cpu', added: [], replaced: [], unavailable: [], simd: [], fma: false });
  });

  it('is idempotent', () => {
    registerMissingKernels('wasm');
    const again = registerMissingKernels('wasm');
    expect(again.added).toEqual([]);
    expect(again.replaced).toEqual([]);
    unregisterComposedKernels('wasm');
  });

  it('reports kernels it cannot compose on a backend without the building blocks', () => {
    const report = registerMissingKernels('no-such-backend');
    expect(report.added).toEqual([]);
    expect(report.unavailable.map((u) => u.kernel)).toContain('Conv2DBackpropFilter');
    expect(report.unavailable.find((u) => u.kernel === 'Conv2DBackpropFilter')?.missing).toBe('Transpose');
  });

  it('rejects a bad backend name or an unknown kernel with a clear error', () => {
    expect(() => registerMissingKernels('')).toThrow(KernelCompositionError);
    expect(() => registerMissingKernels('wasm', { replace: ['MatMul' as never] })).toThrow(/cannot replace 'MatMul'/);
  });
});

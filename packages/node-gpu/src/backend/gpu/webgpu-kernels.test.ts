/**
 * fastts' WGSL kernels (`@fastts/core/kernels/webgpu`) against tfjs' cpu backend, on Dawn with Chromium's
 * SwiftShader Vulkan driver: odd shapes, strides 1–3, SAME/VALID/explicit padding, split-K, dilation and channel
 * multipliers, the NCHW fallback, and flat memory over 50 training steps.
 *
 * Never skipped silently: without SwiftShader (Debian `chromium` + `libvulkan1`, which CI installs) the suite
 * fails and says what to install; set FASTTS_SKIP_WEBGPU=1 to skip it on purpose.
 */
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { batchNormTrain } from '@fastts/core/kernels';
import { registerWebgpuKernels, webgpuKernelNames } from '@fastts/core/kernels/webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWIFTSHADER_ICD, tryDawnWebgpu } from './dawn.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/** Runs `f` on webgpu then cpu and returns each output's values. */
async function onBoth(f: () => tf.Tensor | tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const out: Float32Array[][] = [];
  for (const backend of ['webgpu', 'cpu']) {
    await tf.setBackend(backend);
    const r = tf.tidy(f);
    const list = Array.isArray(r) ? r : [r];
    out.push(await Promise.all(list.map(async (t) => (await t.data()) as Float32Array)));
    tf.dispose(list);
  }
  return [out[0]!, out[1]!];
}

/** Max abs difference relative to the reference's max magnitude (f32 sums of up to ~10⁴ terms). */
function expectClose(got: Float32Array, want: Float32Array, tol = 2e-5): void {
  expect(got.length).toBe(want.length);
  let err = 0;
  let ref = 1;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
    ref = Math.max(ref, Math.abs(want[i]!));
  }
  expect(err / ref).toBeLessThan(tol);
}

const rand = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);
const skip = process.env.FASTTS_SKIP_WEBGPU === '1';

describe.skipIf(skip)('fastts WebGPU kernels on SwiftShader (Dawn)', () => {
  const saved = process.env.VK_ICD_FILENAMES;
  const platformKernels = new Map<string, tf.KernelFunc | undefined>();
  beforeAll(async () => {
    if (!existsSync(SWIFTSHADER_ICD)) {
      throw new Error(
        `SwiftShader's Vulkan ICD (${SWIFTSHADER_ICD}) is missing: apt-get install chromium libvulkan1 (or FASTTS_SKIP_WEBGPU=1)`,
      );
    }
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    const r = await tryDawnWebgpu();
    if (!r.ok) throw r.error;
    for (const name of webgpuKernelNames()) platformKernels.set(name, tf.getKernel(name, 'webgpu')?.kernelFunc);
    // SwiftShader is a software adapter, where the platform keeps tfjs' convolution gradients (faster there):
    // install every fastts kernel explicitly, so that the cases below test them.
    registerWebgpuKernels();
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.VK_ICD_FILENAMES;
    else process.env.VK_ICD_FILENAMES = saved;
    await tf.setBackend('cpu');
  });

  it("on a software adapter tryDawnWebgpu installs the BatchNorm passes and keeps tfjs' convolution gradients", () => {
    const conv = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'];
    for (const name of webgpuKernelNames()) {
      const now = tf.getKernel(name, 'webgpu')?.kernelFunc;
      expect(now, name).toBeDefined();
      if (conv.includes(name)) expect(platformKernels.get(name), `${name}: tfjs' kernel until registered`).not.toBe(now);
      else expect(platformKernels.get(name), `${name}: installed by the platform`).toBe(now);
    }
    expect(webgpuKernelNames()).toEqual(
      expect.arrayContaining([
        'Conv2DBackpropFilter',
        'Conv2DBackpropInput',
        'DepthwiseConv2dNativeBackpropFilter',
        'FasttsBatchNormGrad',
      ]),
    );
  });

  const convCases: Array<[string, Shape4, Shape4, number, Pad]> = [
    ['3x3 stride 1 same, odd sizes', [2, 9, 7, 5], [3, 3, 5, 6], 1, 'same'],
    ['3x2 stride 2 valid', [3, 11, 10, 7], [3, 2, 7, 9], 2, 'valid'],
    ['1x1 stride 2 (resnet downsample)', [2, 8, 8, 16], [1, 1, 16, 32], 2, 'valid'],
    ['3x3 stride 2 same, > one 64-tile of channels', [2, 9, 9, 66], [3, 3, 66, 70], 2, 'same'],
    [
      '5x5 stride 3 explicit asymmetric pads',
      [2, 13, 13, 3],
      [5, 5, 3, 70],
      3,
      [
        [0, 0],
        [1, 2],
        [2, 1],
        [0, 0],
      ],
    ],
    [
      '7x7 stride 2 pad 3 (resnet stem), split-K',
      [4, 21, 21, 3],
      [7, 7, 3, 16],
      2,
      [
        [0, 0],
        [3, 3],
        [3, 3],
        [0, 0],
      ],
    ],
    ['3x3 stride 1 long reduction, split-K', [8, 24, 24, 8], [3, 3, 8, 8], 1, 'same'],
  ];

  for (const [name, xs, fs, s, pad] of convCases) {
    it(`Conv2DBackpropFilter: ${name}`, async () => {
      const [gpu, cpu] = await onBoth(() => {
        const x = rand(xs, 1) as tf.Tensor4D;
        const dy = rand(tf.conv2d(tf.zeros(xs) as tf.Tensor4D, tf.zeros(fs) as tf.Tensor4D, s, pad).shape, 2);
        return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
          strides: s,
          pad,
          dataFormat: 'NHWC',
          filterShape: fs,
        } as never) as tf.Tensor;
      });
      expectClose(gpu[0]!, cpu[0]!);
    });

    it(`Conv2DBackpropInput: ${name}`, async () => {
      const [gpu, cpu] = await onBoth(() => {
        const dy = rand(tf.conv2d(tf.zeros(xs) as tf.Tensor4D, tf.zeros(fs) as tf.Tensor4D, s, pad).shape, 2);
        const filter = rand(fs, 3);
        return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, {
          inputShape: xs,
          strides: s,
          pad,
          dataFormat: 'NHWC',
        } as never) as tf.Tensor;
      });
      expectClose(gpu[0]!, cpu[0]!);
    });
  }

  it('NCHW falls back to tfjs-backend-webgpu and still matches', async () => {
    const [gpu, cpu] = await onBoth(() => {
      const x = rand([2, 4, 7, 7], 1);
      const dy = rand([2, 5, 4, 4], 2);
      return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: 2,
        pad: 'same',
        dataFormat: 'NCHW',
        filterShape: [3, 3, 4, 5],
      } as never) as tf.Tensor;
    });
    expectClose(gpu[0]!, cpu[0]!);
  });

  const dwCases: Array<[string, Shape4, Shape4, number, Pad]> = [
    ['3x3 multiplier 1 same', [2, 9, 7, 5], [3, 3, 5, 1], 1, 'same'],
    ['3x2 multiplier 3 stride 2 valid', [3, 11, 10, 7], [3, 2, 7, 3], 2, 'valid'],
    [
      '5x5 multiplier 2, 70 channels, explicit pads',
      [2, 13, 13, 35],
      [5, 5, 35, 2],
      2,
      [
        [0, 0],
        [1, 2],
        [2, 1],
        [0, 0],
      ],
    ],
  ];
  for (const [name, xs, fs, s, pad] of dwCases) {
    it(`DepthwiseConv2dNativeBackpropFilter: ${name}`, async () => {
      const [gpu, cpu] = await onBoth(() => {
        const x = rand(xs, 1);
        const dy = rand(tf.depthwiseConv2d(tf.zeros(xs) as tf.Tensor4D, tf.zeros(fs) as tf.Tensor4D, s, pad).shape, 2);
        return tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, {
          strides: s,
          pad,
          dilations: 1,
          filterShape: fs,
        } as never) as tf.Tensor;
      });
      expectClose(gpu[0]!, cpu[0]!);
    });
  }

  it('DepthwiseConv2dNativeBackpropFilter with dilation 2 matches a direct sum', async () => {
    // tfjs' cpu kernel ignores dilation here, so the reference is the definition itself.
    const [N, H, W, C, M, K, D] = [2, 11, 10, 6, 2, 3, 2];
    const xs = [N, H, W, C];
    await tf.setBackend('webgpu');
    const x = rand(xs, 1);
    const dy = rand([N, H, W, C * M], 2);
    const dw = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, {
      strides: 1,
      pad: 'same',
      dilations: D,
      filterShape: [K, K, C, M],
    } as never) as tf.Tensor;
    const [xv, dyv, got] = [await x.data(), await dy.data(), (await dw.data()) as Float32Array];
    tf.dispose([x, dy, dw]);
    const pad = ((K - 1) * D) >> 1;
    const want = new Float32Array(K * K * C * M);
    for (let n = 0; n < N; n++)
      for (let oh = 0; oh < H; oh++)
        for (let ow = 0; ow < W; ow++)
          for (let kh = 0; kh < K; kh++)
            for (let kw = 0; kw < K; kw++) {
              const [ih, iw] = [oh - pad + kh * D, ow - pad + kw * D];
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              for (let c = 0; c < C; c++)
                for (let q = 0; q < M; q++) {
                  want[((kh * K + kw) * C + c) * M + q]! +=
                    xv[((n * H + ih) * W + iw) * C + c]! * dyv[((n * H + oh) * W + ow) * C * M + c * M + q]!;
                }
            }
    expectClose(got, want);
  });

  for (const xs of [
    [4, 5, 5, 16],
    [2, 7, 3, 70],
    [300, 3],
  ]) {
    it(`BatchNorm training statistics, forward and backward: x ${JSON.stringify(xs)}`, async () => {
      const c = xs[xs.length - 1]!;
      const [gpu, cpu] = await onBoth(() => {
        // Mean far from zero: the variance must not cancel.
        const x = tf.add(tf.randomNormal(xs, 0, 2, 'float32', 1), 50);
        const gamma = tf.randomNormal([c], 1, 0.2, 'float32', 4);
        const beta = tf.randomNormal([c], 0, 0.2, 'float32', 5);
        const weights = rand(xs, 6);
        const { y, mean, variance } = batchNormTrain(x, gamma, beta, 1e-5);
        const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          const r = batchNormTrain(a, g, b, 1e-5);
          tf.dispose([r.mean, r.variance]);
          return tf.sum(tf.mul(r.y, weights));
        })([x, gamma, beta]);
        return [y, mean, variance, ...grads];
      });
      ['y', 'mean', 'variance', 'dx', 'dgamma', 'dbeta'].forEach((name, i) =>
        expectClose(gpu[i]!, cpu[i]!, name === 'dx' ? 1e-4 : 2e-5),
      );
    });
  }

  it('50 training steps of a small CNN keep tf.memory() and the GPU buffer pool flat', async () => {
    await tf.setBackend('webgpu');
    const backend = tf.backend() as unknown as { bufferManager: { getNumUsedBuffers(): number; numBytesUsed: number } };
    const v = (shape: number[], seed: number) => tf.variable(tf.mul(rand(shape, seed), 0.1));
    const params = [v([3, 3, 3, 8], 1), v([8], 2), v([8], 3), v([3, 3, 8, 16], 4), v([16], 5), v([16], 6), v([16, 4], 7)];
    const [w1, g1, b1, w2, g2, b2, fc] = params as [
      tf.Variable,
      tf.Variable,
      tf.Variable,
      tf.Variable,
      tf.Variable,
      tf.Variable,
      tf.Variable,
    ];
    const x = rand([4, 12, 12, 3], 8);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4);
    const bn = (h: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const r = batchNormTrain(h, g, b, 1e-5);
      tf.dispose([r.mean, r.variance]);
      return tf.relu(r.y);
    };
    const step = async () => {
      const { value, grads } = tf.variableGrads(() => {
        let h = bn(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 1, 'same'), g1, b1);
        h = bn(tf.conv2d(h as tf.Tensor4D, w2 as tf.Tensor4D, 2, 'same'), g2, b2);
        const logits = tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, fc);
        return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
      });
      tf.tidy(() => {
        for (const p of params) p.assign(tf.sub(p, tf.mul(grads[p.name]!, 0.1)));
      });
      const loss = (await value.data())[0]!;
      tf.dispose([value, ...Object.values(grads)]);
      return loss;
    };
    const first = await step();
    for (let i = 0; i < 4; i++) await step();
    const before = {
      ...tf.memory(),
      buffers: backend.bufferManager.getNumUsedBuffers(),
      bytes: backend.bufferManager.numBytesUsed,
    };
    let last = first;
    for (let i = 0; i < 45; i++) last = await step();
    const after = {
      ...tf.memory(),
      buffers: backend.bufferManager.getNumUsedBuffers(),
      bytes: backend.bufferManager.numBytesUsed,
    };
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(after.buffers).toBe(before.buffers);
    expect(after.bytes).toBe(before.bytes);
    expect(last).toBeLessThan(first);
    tf.dispose([...params, x, labels]);
  });
});

/**
 * `Conv2D` and `Conv2DBackpropFilter` for the tfjs wasm backend on fastts' SIMD micro-kernels. They take over
 * from XNNPACK when the backend runs one thread (the data-parallel workers); a multi-threaded wasm backend keeps
 * XNNPACK's thread pool (the kernels below delegate to the kernels they replaced), except for the convolutions a
 * native provider takes (native-convolutions.ts), which it runs on either.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { convGeometry, type PadAttr } from '../conv-geometry.js';
import { simdConvEngine, type SimdConvEngine } from './conv-engine.js';
import { isWasmBackend, wasmBackendThreads, type WasmBackendLike } from './wasm-heap.js';
import { nativeConvolutions } from '../native-convolutions.js';
import { BATCHNORM_APPLY, BATCHNORM_GRAD, BATCHNORM_STATS } from '../batchnorm-names.js';

export { BATCHNORM_APPLY, BATCHNORM_GRAD, BATCHNORM_STATS };

/**
 * Whether a backend runs on the SIMD engine: a wasm backend with one thread, or with kernel threads attached
 * (attachKernelThreads); other multi-threaded wasm backends keep XNNPACK's thread pool.
 */
function onEngine(backend: unknown): backend is WasmBackendLike {
  return isWasmBackend(backend) && (wasmBackendThreads(backend) === 1 || simdConvEngine(backend).heap.threads !== null);
}

/**
 * On a multi-threaded backend off the engine: the native provider's result when one is registered and takes the op,
 * else null (the replaced kernel runs).
 */
function nativeOffEngine(backend: WasmBackendLike, ...call: Parameters<SimdConvEngine['tryNative']>): TensorInfo | null {
  return nativeConvolutions() ? simdConvEngine(backend).tryNative(...call) : null;
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dataFormat?: string;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function nhwc(dataFormat: string | undefined): boolean {
  return dataFormat === undefined || dataFormat === 'NHWC' || dataFormat === 'channelsLast';
}

/** `Conv2D` on the SIMD engine; `fallback` (XNNPACK's) for multi-threaded backends and NCHW. */
export function simdConv2dKernel(backendName: string, fallback: KernelConfig): KernelConfig {
  const kernelFunc = ((args) => {
    const { inputs, attrs, backend } = args;
    const a = attrs as unknown as ConvAttrs;
    if (!isWasmBackend(backend) || !nhwc(a.dataFormat)) return fallback.kernelFunc(args);
    const { x, filter } = inputs as { x: TensorInfo; filter: TensorInfo };
    const g = convGeometry(x.shape, filter.shape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, false, a.dataFormat);
    if (!onEngine(backend)) return nativeOffEngine(backend, 'forward', g, x, filter) ?? fallback.kernelFunc(args);
    return simdConvEngine(backend).conv2d(x, filter, g);
  }) as KernelFunc;
  return { kernelName: 'Conv2D', backendName, kernelFunc };
}

/** `Conv2DBackpropFilter` on the SIMD engine; `fallback` for multi-threaded backends. */
export function simdConv2dBackpropFilterKernel(backendName: string, fallback: KernelConfig): KernelConfig {
  const kernelFunc = ((args) => {
    const { inputs, attrs, backend } = args;
    const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
    if (!isWasmBackend(backend) || !nhwc(a.dataFormat)) return fallback.kernelFunc(args);
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const g = convGeometry(x.shape, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, a.dataFormat);
    if (!onEngine(backend)) return nativeOffEngine(backend, 'filterGradient', g, x, dy) ?? fallback.kernelFunc(args);
    return simdConvEngine(backend).conv2dBackpropFilter(x, dy, g);
  }) as KernelFunc;
  return { kernelName: 'Conv2DBackpropFilter', backendName, kernelFunc };
}

/**
 * `FusedConv2D` (conv + bias + relu/relu6/linear, what the models run in eval mode with BatchNorm folded in) on
 * the SIMD engine; other activations, prelu weights, NCHW and multi-threaded backends go to `fallback`.
 */
export function simdFusedConv2dKernel(backendName: string, fallback: KernelConfig): KernelConfig {
  const acts: Record<string, 0 | 1 | 2> = { linear: 0, relu: 1, relu6: 2 };
  const kernelFunc = ((args) => {
    const { inputs, attrs, backend } = args;
    const a = attrs as unknown as ConvAttrs & { activation?: string };
    const act = acts[a.activation ?? 'linear'];
    const { x, filter, bias, preluActivationWeights } = inputs as {
      x: TensorInfo;
      filter: TensorInfo;
      bias?: TensorInfo;
      preluActivationWeights?: TensorInfo;
    };
    const co = filter.shape[3]!;
    const plainBias = !bias || (bias.shape.length === 1 && bias.shape[0] === co);
    if (act === undefined || preluActivationWeights || !plainBias || !isWasmBackend(backend) || !nhwc(a.dataFormat)) {
      return fallback.kernelFunc(args);
    }
    const g = convGeometry(x.shape, filter.shape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, false, a.dataFormat);
    if (!onEngine(backend)) {
      return nativeOffEngine(backend, 'forward', g, x, filter, bias ?? null, act) ?? fallback.kernelFunc(args);
    }
    return simdConvEngine(backend).conv2d(x, filter, g, bias ?? null, act);
  }) as KernelFunc;
  return { kernelName: 'FusedConv2D', backendName, kernelFunc };
}

function vectorOut(backend: { write(v: Float32Array, s: number[], d: 'float32'): unknown }, values: Float32Array): TensorInfo {
  return {
    dataId: backend.write(values, [values.length], 'float32') as TensorInfo['dataId'],
    shape: [values.length],
    dtype: 'float32',
  };
}

/** The per-channel moments on the SIMD engine (channels must be a multiple of 8). */
export function simdBatchNormStatsKernel(backendName: string): KernelConfig {
  const kernelFunc = (({ inputs, backend }) => {
    if (!isWasmBackend(backend)) throw new Error(`${BATCHNORM_STATS} runs on the wasm backend only`);
    const { x } = inputs as { x: TensorInfo };
    const { mean, variance } = simdConvEngine(backend).channelMoments(x);
    return [vectorOut(backend, mean), vectorOut(backend, variance)];
  }) as KernelFunc;
  return { kernelName: BATCHNORM_STATS, backendName, kernelFunc };
}

/** The BatchNorm backward on the SIMD engine (channels must be a multiple of 8). */
export function simdBatchNormGradKernel(backendName: string): KernelConfig {
  const kernelFunc = (({ inputs, attrs, backend }) => {
    if (!isWasmBackend(backend)) throw new Error(`${BATCHNORM_GRAD} runs on the wasm backend only`);
    const { dy, x, mean, variance, gamma } = inputs as Record<'dy' | 'x' | 'mean' | 'variance' | 'gamma', TensorInfo>;
    const eps = (attrs as { eps: number }).eps;
    const m = backend.readSync(mean.dataId) as Float32Array;
    const v = backend.readSync(variance.dataId) as Float32Array;
    const g = backend.readSync(gamma.dataId) as Float32Array;
    const invStd = v.map((value) => 1 / Math.sqrt(value + eps));
    const { dx, dGamma, dBeta } = simdConvEngine(backend).batchNormBackward(dy, x, m, invStd, g);
    return [dx, vectorOut(backend, dGamma), vectorOut(backend, dBeta)];
  }) as KernelFunc;
  return { kernelName: BATCHNORM_GRAD, backendName, kernelFunc };
}

/** BatchNorm's forward on the SIMD engine, y = γ(x − μ)/√(σ² + ε) + β in one pass (channels a multiple of 8). */
export function simdBatchNormApplyKernel(backendName: string): KernelConfig {
  const kernelFunc = (({ inputs, attrs, backend }) => {
    if (!isWasmBackend(backend)) throw new Error(`${BATCHNORM_APPLY} runs on the wasm backend only`);
    const { x, mean, variance, gamma, beta } = inputs as Record<'x' | 'mean' | 'variance' | 'gamma' | 'beta', TensorInfo>;
    const eps = (attrs as { eps: number }).eps;
    const m = backend.readSync(mean.dataId) as Float32Array;
    const v = backend.readSync(variance.dataId) as Float32Array;
    const g = backend.readSync(gamma.dataId) as Float32Array;
    const b = backend.readSync(beta.dataId) as Float32Array;
    const a = new Float32Array(m.length);
    const c = new Float32Array(m.length);
    for (let i = 0; i < m.length; i++) {
      a[i] = g[i]! / Math.sqrt(v[i]! + eps);
      c[i] = b[i]! - m[i]! * a[i]!;
    }
    return simdConvEngine(backend).channelAffine(x, a, c);
  }) as KernelFunc;
  return { kernelName: BATCHNORM_APPLY, backendName, kernelFunc };
}

/** `Conv2DBackpropInput` on the SIMD engine (stride phases, no zero insertion); `fallback` for multi-threaded backends. */
export function simdConv2dBackpropInputKernel(backendName: string, fallback: KernelConfig): KernelConfig {
  const kernelFunc = ((args) => {
    const { inputs, attrs, backend } = args;
    const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
    if (!isWasmBackend(backend) || !nhwc(a.dataFormat)) return fallback.kernelFunc(args);
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const g = convGeometry(a.inputShape, filter.shape, a.strides, 1, a.pad, a.dimRoundingMode, false, a.dataFormat);
    if (!onEngine(backend)) return nativeOffEngine(backend, 'inputGradient', g, dy, filter) ?? fallback.kernelFunc(args);
    return simdConvEngine(backend).conv2dBackpropInput(dy, filter, g);
  }) as KernelFunc;
  return { kernelName: 'Conv2DBackpropInput', backendName, kernelFunc };
}

/**
 * `Sum` over every axis but the last of a float32 tensor whose last axis is a multiple of 8 (a bias gradient: the
 * wasm backend's own transposes first) on the SIMD engine; any other reduction goes to `fallback`.
 */
export function simdChannelSumKernel(backendName: string, fallback: KernelConfig): KernelConfig {
  const kernelFunc = ((args) => {
    const { inputs, attrs, backend } = args;
    const { x } = inputs as { x: TensorInfo };
    const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const rank = x.shape.length;
    const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
    const c = x.shape[rank - 1] ?? 0;
    const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
    if (!isWasmBackend(backend) || x.dtype !== 'float32' || !leading || c % 8 !== 0 || c === 0) return fallback.kernelFunc(args);
    const sums = simdConvEngine(backend).channelSum(x);
    const shape = keepDims ? [...new Array<number>(rank - 1).fill(1), c] : [c];
    return { dataId: backend.write(sums, shape, 'float32'), shape, dtype: 'float32' };
  }) as KernelFunc;
  return { kernelName: 'Sum', backendName, kernelFunc };
}

/**
 * fastts' SIMD convolution engine for the tfjs wasm backend: convolutions, their gradients and BatchNorm's
 * per-channel work on fastts' own micro-kernels (conv-kernels.ts) instead of XNNPACK. Tensors are read and written
 * in place on the backend's heap. This module picks the algorithm per convolution:
 *
 * - 3×3 stride-1 convolutions (most of a ResNet): Winograd F(4×4, 3×3) (winograd.ts, 4× fewer multiply-adds);
 * - everything else: direct convolution through an indirection buffer (direct-conv.ts, direct-wgrad.ts);
 * - BatchNorm statistics, forward and backward, bias gradients: channel-ops.ts.
 *
 * A native provider registered with `setNativeConvolutions` (native-convolutions.ts) takes the convolutions it
 * accepts before any of these.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { ConvGeometry } from '../conv-geometry.js';
import { nativeConvolutions, setNativeConvolutions, type NativeConvFusion, type NativeConvOp } from '../native-convolutions.js';
import { batchNormBackward, channelAffine, channelMoments, channelSum } from './channel-ops.js';
import { directBackpropInput, directConv2d } from './direct-conv.js';
import { directBackpropFilter } from './direct-wgrad.js';
import { WasmHeap, type WasmBackendLike } from './wasm-heap.js';
import { isWinogradConvolution, winogradBackpropFilter, winogradBackpropInput, winogradConv2d } from './winograd.js';

const engines = new WeakMap<object, SimdConvEngine>();

/** The engine of a wasm backend instance (kernels instantiated over its memory on first use). */
export function simdConvEngine(backend: WasmBackendLike): SimdConvEngine {
  let e = engines.get(backend);
  if (!e) {
    e = new SimdConvEngine(backend);
    engines.set(backend, e);
  }
  return e;
}

/** The operations of the SIMD engine on one wasm backend. */
export class SimdConvEngine {
  readonly heap: WasmHeap;

  constructor(backend: WasmBackendLike) {
    this.heap = new WasmHeap(backend);
  }

  /**
   * Forward convolution (NHWC, HWIO filter), optionally + bias [Co] and relu (act 1) / relu6 (act 2); returns the
   * output tensor [N, OH, OW, Co].
   */
  conv2d(x: TensorInfo, filter: TensorInfo, g: ConvGeometry, bias: TensorInfo | null = null, act: 0 | 1 | 2 = 0): TensorInfo {
    const native = this.tryNative('forward', g, x, filter, bias, act);
    if (native) return native;
    if (isWinogradConvolution(g)) return winogradConv2d(this.heap, x, filter, g, bias, act);
    return directConv2d(this.heap, x, filter, g, bias, act);
  }

  /** Input gradient of a convolution (any stride). */
  conv2dBackpropInput(dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
    const native = this.tryNative('inputGradient', g, dy, filter);
    if (native) return native;
    if (isWinogradConvolution(g)) return winogradBackpropInput(this.heap, dy, filter, g);
    return directBackpropInput(this.heap, dy, filter, g);
  }

  /** Weight gradient dW[kh, kw, Ci, Co] of a convolution (NHWC x and dy). */
  conv2dBackpropFilter(x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
    const native = this.tryNative('filterGradient', g, x, dy);
    if (native) return native;
    if (isWinogradConvolution(g)) return winogradBackpropFilter(this.heap, x, dy, g);
    return directBackpropFilter(this.heap, x, dy, g);
  }

  /**
   * Runs `op` on the native provider (native-convolutions.ts) when one is registered and accepts it; null otherwise,
   * and null after a failure of the provider (which is then removed, with a warning).
   * `a`, `b`: x and filter (forward), dy and filter (inputGradient), x and dy (filterGradient).
   */
  tryNative(
    op: NativeConvOp,
    g: ConvGeometry,
    a: TensorInfo,
    b: TensorInfo,
    bias: TensorInfo | null = null,
    act: 0 | 1 | 2 = 0,
  ): TensorInfo | null {
    const provider = nativeConvolutions();
    const fusion: NativeConvFusion = { bias: bias !== null, act };
    if (!provider?.accepts(op, g, fusion)) return null;
    const outShape =
      op === 'forward'
        ? [g.batch, g.outHeight, g.outWidth, g.outChannels]
        : op === 'inputGradient'
          ? [g.batch, g.inHeight, g.inWidth, g.inChannels]
          : [g.filterHeight, g.filterWidth, g.inChannels, g.outChannels];
    const out = this.heap.backend.makeOutput(outShape, 'float32');
    // views after makeOutput: an allocation may grow the memory (views() renews them)
    const { f32 } = this.heap.views();
    const view = (t: TensorInfo): Float32Array => {
      const at = this.heap.ptr(t) / 4;
      return f32.subarray(at, at + t.shape.reduce((p, q) => p * q, 1));
    };
    try {
      provider.run({ op, geometry: g, fusion, a: view(a), b: view(b), bias: bias ? view(bias) : null, out: view(out) });
    } catch (e) {
      // a native failure must not lose a run: this call and every later one go to the wasm engine
      this.heap.backend.disposeData(out.dataId);
      setNativeConvolutions(null);
      console.warn(
        `fastts: native convolutions (${provider.name}) failed, the wasm engine runs them from now on: ${(e as Error).message}`,
      );
      return null;
    }
    return out;
  }

  /** Per-channel mean and biased variance of `x` [..., C] (C a multiple of 8). */
  channelMoments(x: TensorInfo): { mean: Float32Array; variance: Float32Array } {
    return channelMoments(this.heap, x);
  }

  /** Per-channel sum of `x` [..., C] over every other axis (C a multiple of 8), e.g. a bias gradient. */
  channelSum(x: TensorInfo): Float32Array {
    return channelSum(this.heap, x);
  }

  /** out = a·x + c per channel: BatchNorm's forward with known statistics. */
  channelAffine(x: TensorInfo, a: Float32Array, c: Float32Array): TensorInfo {
    return channelAffine(this.heap, x, a, c);
  }

  /** BatchNorm backward: dx and the parameter gradients (see channel-ops.ts). */
  batchNormBackward(
    dy: TensorInfo,
    x: TensorInfo,
    mean: Float32Array,
    invStd: Float32Array,
    gamma: Float32Array,
  ): { dx: TensorInfo; dGamma: Float32Array; dBeta: Float32Array } {
    return batchNormBackward(this.heap, dy, x, mean, invStd, gamma);
  }
}

/**
 * A seam for native convolution kernels under the wasm SIMD engine. WebAssembly SIMD is 128 bits wide; a CPU with
 * AVX-512 runs a GEMM several times faster natively. A platform that can call native code synchronously (on Node:
 * ONNX Runtime's CPU kernels, see `@fastts/node-gpu`) registers a provider; the SIMD engine hands it the
 * convolutions it accepts (typically those whose wasm path is a plain GEMM — 1×1 and strided convolutions — where
 * native is fastest) and keeps the rest (Winograd). Operands are views of the backend's heap in tfjs' layouts:
 * NHWC activations and HWIO (`[kh, kw, ci, co]`) filters. This module holds no platform code.
 */
import type { ConvGeometry } from './conv-geometry.js';

/** The three convolution ops of a training step. */
export type NativeConvOp = 'forward' | 'inputGradient' | 'filterGradient';

/** What a forward convolution fuses: a per-channel bias and an activation (0 none, 1 relu, 2 relu6). */
export interface NativeConvFusion {
  bias: boolean;
  act: 0 | 1 | 2;
}

/** Operands of one native convolution call (views of the wasm heap, or copies). */
export interface NativeConvCall {
  op: NativeConvOp;
  geometry: ConvGeometry;
  fusion: NativeConvFusion;
  /** forward and filterGradient: x [N, H, W, Ci]; inputGradient: dy [N, OH, OW, Co]. */
  a: Float32Array;
  /** forward and inputGradient: the filter [kh, kw, Ci, Co]; filterGradient: dy [N, OH, OW, Co]. */
  b: Float32Array;
  /** forward with a bias: [Co]. */
  bias: Float32Array | null;
  /** Where the result goes: y [N, OH, OW, Co], dx [N, H, W, Ci] or dW [kh, kw, Ci, Co]. */
  out: Float32Array;
}

/** A native implementation of some convolutions (see the module comment). */
export interface NativeConvolutions {
  /** One word for logs, e.g. `onnxruntime`. */
  readonly name: string;
  /** Whether it runs `op` on this geometry; when false the SIMD engine does. */
  accepts(op: NativeConvOp, g: ConvGeometry, fusion: NativeConvFusion): boolean;
  /** Computes the call into `call.out` (synchronously; throws on failure). */
  run(call: NativeConvCall): void;
}

let provider: NativeConvolutions | null = null;

/**
 * Registers the native convolution provider of this thread (null removes it). The wasm SIMD engine asks it before
 * each convolution from then on.
 */
export function setNativeConvolutions(p: NativeConvolutions | null): void {
  provider = p;
}

/** The provider registered with {@link setNativeConvolutions}, if any. */
export function nativeConvolutions(): NativeConvolutions | null {
  return provider;
}

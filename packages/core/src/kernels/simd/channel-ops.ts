/**
 * Per-channel operations on the SIMD engine (BatchNorm's statistics, forward and backward, bias gradients): x
 * [..., C] with C a multiple of 8, in blocks of rows that stay in L1 across the 8-channel chunks.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmHeap } from './wasm-heap.js';

/** Rows per call of the per-channel kernels: a block of rows (≤ 32 KB) stays in L1 across the channel chunks. */
function rowsPerBlock(c: number): number {
  return Math.max(16, Math.floor((32 * 1024) / (c * 4)));
}

/**
 * Per-channel Σ(x − shift) and Σ(x − shift)² of `x` [..., C] (C a multiple of 8), in float64 over blocks of
 * float32 partial sums; shift = the first row (`shifted`) or 0.
 */
function channelSums(h: WasmHeap, x: TensorInfo, shifted: boolean): { rows: number; shift: Float32Array; s: Float64Array; q: Float64Array } {
  const c = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((a, b) => a * b, 1) / c;
  const scratch = h.malloc(3 * c * 4 + 64);
  try {
    const shift = (scratch + 15) & ~15;
    const sPtr = shift + c * 4;
    const qPtr = sPtr + c * 4;
    let { f32 } = h.views();
    const xPtr = h.ptr(x);
    if (shifted) f32.copyWithin(shift >> 2, xPtr >> 2, (xPtr >> 2) + c);
    else f32.fill(0, shift >> 2, (shift >> 2) + c);
    const s = new Float64Array(c);
    const q = new Float64Array(c);
    const block = rowsPerBlock(c);
    for (let p0 = 0; p0 < rows; p0 += block) {
      const n = Math.min(block, rows - p0);
      f32.fill(0, sPtr >> 2, (qPtr >> 2) + c);
      h.kernels.chsum(xPtr + p0 * c * 4, c * 4, n, c / 8, shift, sPtr, qPtr);
      ({ f32 } = h.views());
      for (let i = 0; i < c; i++) {
        s[i] = s[i]! + f32[(sPtr >> 2) + i]!;
        q[i] = q[i]! + f32[(qPtr >> 2) + i]!;
      }
    }
    return { rows, shift: f32.slice(shift >> 2, (shift >> 2) + c), s, q };
  } finally {
    h.free(scratch);
  }
}

/**
 * Per-channel mean and biased variance of `x` [..., C] (C a multiple of 8), shifted by the first row (no
 * cancellation when the mean is large next to the spread).
 */
export function channelMoments(h: WasmHeap, x: TensorInfo): { mean: Float32Array; variance: Float32Array } {
  const { rows, shift, s, q } = channelSums(h, x, true);
  const mean = new Float32Array(s.length);
  const variance = new Float32Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const m = s[i]! / rows;
    mean[i] = shift[i]! + m;
    variance[i] = Math.max(0, q[i]! / rows - m * m);
  }
  return { mean, variance };
}

/** Per-channel sum of `x` [..., C] over every other axis (C a multiple of 8), e.g. a bias gradient. */
export function channelSum(h: WasmHeap, x: TensorInfo): Float32Array {
  return Float32Array.from(channelSums(h, x, false).s);
}

/**
 * out = A·dy + B·x + C per channel over `rows` rows of `c` channels, the coefficient vectors A, B, C back to back
 * at `coef` (c floats each).
 */
function affineRows(h: WasmHeap, dyPtr: number, xPtr: number, outPtr: number, c: number, rows: number, coef: number): void {
  const block = rowsPerBlock(c);
  for (let p0 = 0; p0 < rows; p0 += block) {
    const off = p0 * c * 4;
    h.kernels.affine(dyPtr + off, xPtr + off, outPtr + off, c * 4, Math.min(block, rows - p0), c / 8, coef, coef + c * 4, coef + 8 * c);
  }
}

/** out = a·x + c per channel (`a`, `c` of length C, C a multiple of 8): BatchNorm's forward with known statistics. */
export function channelAffine(h: WasmHeap, x: TensorInfo, a: Float32Array, c: Float32Array): TensorInfo {
  const ch = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((p, q) => p * q, 1) / ch;
  const out = h.backend.makeOutput([...x.shape], 'float32');
  const scratch = h.malloc(3 * ch * 4 + 64);
  try {
    const aPtr = (scratch + 15) & ~15;
    const bPtr = aPtr + ch * 4;
    const cPtr = bPtr + ch * 4;
    const { f32 } = h.views();
    f32.set(a, aPtr >> 2);
    f32.fill(0, bPtr >> 2, (bPtr >> 2) + ch);
    f32.set(c, cPtr >> 2);
    const xPtr = h.ptr(x);
    affineRows(h, xPtr, xPtr, h.ptr(out), ch, rows, aPtr);
  } finally {
    h.free(scratch);
  }
  return out;
}

/**
 * BatchNorm backward in two passes: Σdy and Σdy·x per channel, then dx = A·dy + B·x + C
 * (A = γσ⁻¹, B = −Aσ⁻¹·dγ/m, C = −A·dβ/m − B·μ). Returns dx and the parameter gradients.
 */
export function batchNormBackward(
  h: WasmHeap,
  dy: TensorInfo,
  x: TensorInfo,
  mean: Float32Array,
  invStd: Float32Array,
  gamma: Float32Array,
): { dx: TensorInfo; dGamma: Float32Array; dBeta: Float32Array } {
  const c = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((a, b) => a * b, 1) / c;
  const dx = h.backend.makeOutput([...x.shape], 'float32');
  const dGamma = new Float32Array(c);
  const dBeta = new Float32Array(c);
  const scratch = h.malloc(5 * c * 4 + 64);
  try {
    const s1 = (scratch + 15) & ~15;
    const s2 = s1 + c * 4;
    const aPtr = s2 + c * 4;
    const bPtr = aPtr + c * 4;
    const cPtr = bPtr + c * 4;
    const dyPtr = h.ptr(dy);
    const xPtr = h.ptr(x);
    const outPtr = h.ptr(dx);
    const block = rowsPerBlock(c);
    const sumDy = new Float64Array(c);
    const sumDyX = new Float64Array(c);
    let { f32 } = h.views();
    for (let p0 = 0; p0 < rows; p0 += block) {
      const n = Math.min(block, rows - p0);
      f32.fill(0, s1 >> 2, (s2 >> 2) + c);
      h.kernels.chsum2(dyPtr + p0 * c * 4, xPtr + p0 * c * 4, c * 4, n, c / 8, s1, s2);
      ({ f32 } = h.views());
      for (let i = 0; i < c; i++) {
        sumDy[i] = sumDy[i]! + f32[(s1 >> 2) + i]!;
        sumDyX[i] = sumDyX[i]! + f32[(s2 >> 2) + i]!;
      }
    }
    for (let i = 0; i < c; i++) {
      const is = invStd[i]!;
      const dg = is * (sumDyX[i]! - mean[i]! * sumDy[i]!);
      const a = gamma[i]! * is;
      const b = (-a * is * dg) / rows;
      dGamma[i] = dg;
      dBeta[i] = sumDy[i]!;
      f32[(aPtr >> 2) + i] = a;
      f32[(bPtr >> 2) + i] = b;
      f32[(cPtr >> 2) + i] = (-a * sumDy[i]!) / rows - b * mean[i]!;
    }
    affineRows(h, dyPtr, xPtr, outPtr, c, rows, aPtr);
  } finally {
    h.free(scratch);
  }
  return { dx, dGamma, dBeta };
}

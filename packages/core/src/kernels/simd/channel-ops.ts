/**
 * Per-channel operations on the SIMD engine (BatchNorm's statistics, forward and backward, bias gradients): x
 * [..., C] with C a multiple of 8, in blocks of rows that stay in L1 across the 8-channel chunks.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { defineJob } from './kernel-job.js';
import type { WasmHeap } from './wasm-heap.js';

/** Rows per call of the per-channel kernels: a block of rows (≤ 32 KB) stays in L1 across the channel chunks. */
function rowsPerBlock(c: number): number {
  return Math.max(16, Math.floor((32 * 1024) / (c * 4)));
}

/**
 * Block `item` of rows: its per-channel float32 partial sums (two vectors of c floats) at out + item · 8c bytes:
 * Σ(x − shift) and Σ(x − shift)² (`pair` 0), or Σdy and Σdy·x (`pair` 1, dy at `dy`).
 */
const sumsJob = defineJob('channels.sums', ['x', 'dy', 'pair', 'c', 'rows', 'block', 'shift', 'out'], (h, a, item) => {
  const p0 = item * a.block;
  const n = Math.min(a.block, a.rows - p0);
  const s = a.out + item * 8 * a.c;
  const q = s + 4 * a.c;
  h.views().f32.fill(0, s >>> 2, (s >>> 2) + 2 * a.c);
  const off = p0 * a.c * 4;
  if (a.pair) h.kernels.chsum2(a.dy + off, a.x + off, a.c * 4, n, a.c / 8, s, q);
  else h.kernels.chsum(a.x + off, a.c * 4, n, a.c / 8, a.shift, s, q);
});

/**
 * Per-channel sums over the rows of x [rows][c] (see {@link sumsJob}), one block of rows per job item, the
 * blocks' float32 partial sums added in float64 in block order (the same sums however many threads ran them).
 */
function blockSums(
  h: WasmHeap,
  args: { x: number; dy: number; pair: number; c: number; rows: number; shift: number },
): { s: Float64Array; q: Float64Array } {
  const { c, rows } = args;
  const block = rowsPerBlock(c);
  const items = Math.ceil(rows / block);
  const scratch = h.malloc(items * 8 * c + 64);
  try {
    const out = ((scratch + 15) & ~15) >>> 0;
    h.parallel(sumsJob, { ...args, block, out }, items);
    const f32 = h.views().f32;
    const s = new Float64Array(c);
    const q = new Float64Array(c);
    for (let item = 0; item < items; item++) {
      const at = (out >>> 2) + item * 2 * c;
      for (let i = 0; i < c; i++) {
        s[i] = s[i]! + f32[at + i]!;
        q[i] = q[i]! + f32[at + c + i]!;
      }
    }
    return { s, q };
  } finally {
    h.free(scratch);
  }
}

/**
 * Per-channel Σ(x − shift) and Σ(x − shift)² of `x` [..., C] (C a multiple of 8), in float64 over blocks of
 * float32 partial sums; shift = the first row (`shifted`) or 0.
 */
function channelSums(
  h: WasmHeap,
  x: TensorInfo,
  shifted: boolean,
): { rows: number; shift: Float32Array; s: Float64Array; q: Float64Array } {
  const c = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((a, b) => a * b, 1) / c;
  const scratch = h.malloc(c * 4 + 64);
  try {
    const shift = ((scratch + 15) & ~15) >>> 0;
    const xPtr = h.ptr(x);
    const f32 = h.views().f32;
    if (shifted) f32.copyWithin(shift >>> 2, xPtr >>> 2, (xPtr >>> 2) + c);
    else f32.fill(0, shift >>> 2, (shift >>> 2) + c);
    const shiftValues = f32.slice(shift >>> 2, (shift >>> 2) + c);
    const { s, q } = blockSums(h, { x: xPtr, dy: 0, pair: 0, c, rows, shift });
    return { rows, shift: shiftValues, s, q };
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
  h.parallel(affineJob, { dy: dyPtr, x: xPtr, out: outPtr, c, rows, block, coef }, Math.ceil(rows / block));
}

/** Block `item` of rows of {@link affineRows}. */
const affineJob = defineJob('channels.affine', ['dy', 'x', 'out', 'c', 'rows', 'block', 'coef'], (h, a, item) => {
  const p0 = item * a.block;
  const off = p0 * a.c * 4;
  h.kernels.affine(
    a.dy + off,
    a.x + off,
    a.out + off,
    a.c * 4,
    Math.min(a.block, a.rows - p0),
    a.c / 8,
    a.coef,
    a.coef + a.c * 4,
    a.coef + 8 * a.c,
  );
});

/** out = a·x + c per channel (`a`, `c` of length C, C a multiple of 8): BatchNorm's forward with known statistics. */
export function channelAffine(h: WasmHeap, x: TensorInfo, a: Float32Array, c: Float32Array): TensorInfo {
  const ch = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((p, q) => p * q, 1) / ch;
  const out = h.backend.makeOutput([...x.shape], 'float32');
  const scratch = h.malloc(3 * ch * 4 + 64);
  try {
    const aPtr = ((scratch + 15) & ~15) >>> 0;
    const bPtr = aPtr + ch * 4;
    const cPtr = bPtr + ch * 4;
    const { f32 } = h.views();
    f32.set(a, aPtr >>> 2);
    f32.fill(0, bPtr >>> 2, (bPtr >>> 2) + ch);
    f32.set(c, cPtr >>> 2);
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
  const scratch = h.malloc(3 * c * 4 + 64);
  try {
    const aPtr = ((scratch + 15) & ~15) >>> 0;
    const bPtr = aPtr + c * 4;
    const cPtr = bPtr + c * 4;
    const dyPtr = h.ptr(dy);
    const xPtr = h.ptr(x);
    const outPtr = h.ptr(dx);
    const { s: sumDy, q: sumDyX } = blockSums(h, { x: xPtr, dy: dyPtr, pair: 1, c, rows, shift: 0 });
    const f32 = h.views().f32;
    for (let i = 0; i < c; i++) {
      const is = invStd[i]!;
      const dg = is * (sumDyX[i]! - mean[i]! * sumDy[i]!);
      const a = gamma[i]! * is;
      const b = (-a * is * dg) / rows;
      dGamma[i] = dg;
      dBeta[i] = sumDy[i]!;
      f32[(aPtr >>> 2) + i] = a;
      f32[(bPtr >>> 2) + i] = b;
      f32[(cPtr >>> 2) + i] = (-a * sumDy[i]!) / rows - b * mean[i]!;
    }
    affineRows(h, dyPtr, xPtr, outPtr, c, rows, aPtr);
  } finally {
    h.free(scratch);
  }
  return { dx, dGamma, dBeta };
}

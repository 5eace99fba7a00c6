/**
 * The weight gradient of the direct convolution on the SIMD engine: dW += x_tapᵀ · dy over blocks of 64 output
 * pixels (the `wgrad` kernel, 4 input × 8 output channels per tile). The blocks go in stripes (one per thread of the
 * heap), each with a dW accumulator of its own, summed at the end in stripe order.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { ConvGeometry } from '../conv-geometry.js';
import { indirection, isMergeable, mergedIndirection, padRows, paddedWidth } from './indirection.js';
import { addRows, defineJob, STRIPES } from './kernel-job.js';
import type { WasmHeap } from './wasm-heap.js';

/**
 * Pixels per block: 64 keeps a call's dy rows (64 pixels × 64 channels, 16 KB) in L1 (larger blocks, which stream
 * the dW accumulator fewer times, measured slower).
 */
const BLOCK = 64;
/** Output channels per wgrad call. */
const CHUNK = 64;
/** dW rows per item of the reduction. */
const REDUCE_ROWS = 32;

/**
 * Stripe `item`: blocks item, item + stripes, … of the M output pixels into its own dW accumulator (acc + item ·
 * accBytes, [T][kq][co8], zeroed first). In place (`gather` 0): each pixel's T input rows through the indirection
 * [M][T]. Gathered (`gather` 1): per block and tap, the block's input rows are first copied into the calling
 * thread's pack buffer, rows `rowFloats` apart (not a power of two: 64 rows `Ci·4` bytes apart, read in place,
 * fall into a handful of L1 cache sets and evict each other between the input-channel tiles).
 */
const stripeJob = defineJob(
  'direct.wgradStripe',
  ['indir', 'T', 'kq', 'ci', 'co8', 'M', 'gather', 'rowFloats', 'dy', 'acc', 'accBytes', 'pack', 'packBytes', 'ptrs', 'stripes'],
  (h, a, item, thread) => {
    const { T, kq, co8 } = a;
    const k = h.kernels;
    const acc = a.acc + item * a.accBytes;
    const { f32, i32 } = h.views();
    f32.fill(0, acc >>> 2, (acc + a.accBytes) >>> 2);
    const pack = a.pack + thread * a.packBytes;
    const ptrs = a.ptrs + thread * BLOCK * 4;
    if (a.gather) {
      // the packed rows' padding lanes (ci..kq) stay zero: only ci floats are copied into each row
      f32.fill(0, pack >>> 2, (pack + a.packBytes) >>> 2);
      for (let r = 0; r < BLOCK; r++) i32[(ptrs >>> 2) + r] = pack + r * a.rowFloats * 4;
    }
    const ld = co8 * 4;
    const I = a.indir >>> 2;
    for (let m0 = item * BLOCK; m0 < a.M; m0 += a.stripes * BLOCK) {
      const count = Math.min(BLOCK, a.M - m0);
      for (let t = 0; t < T; t++) {
        if (a.gather) {
          for (let r = 0; r < count; r++) {
            const src = i32[I + (m0 + r) * T + t]! >>> 2;
            const dst = (pack >>> 2) + r * a.rowFloats;
            if (a.ci >= 16) f32.copyWithin(dst, src, src + a.ci);
            else for (let c = 0; c < a.ci; c++) f32[dst + c] = f32[src + c]!;
          }
        }
        const rows = a.gather ? ptrs : a.indir + (m0 * T + t) * 4;
        const stride = a.gather ? 4 : T * 4;
        for (let q0 = 0; q0 < co8; q0 += CHUNK) {
          const tiles = Math.min(CHUNK, co8 - q0) / 8;
          const d = a.dy + m0 * ld + q0 * 4;
          for (let c = 0; c < kq; c += 4)
            k.wgrad(rows, stride, count, c * 4, d, ld, acc + ((t * kq + c) * co8 + q0) * 4, ld, tiles);
        }
      }
    }
  },
);

/**
 * dW rows [32·item, 32·item + 32) of `rows` (tap t's row c at t·rowsPerTap + c): the stripes' accumulators summed
 * in stripe order (row t·kq + c, co8 floats), the first `co` floats written to out.
 */
const reduceJob = defineJob(
  'direct.wgradReduce',
  ['acc', 'accBytes', 'used', 'rowsPerTap', 'rows', 'kq', 'co8', 'co', 'out', 'ones', 'zeros'],
  (h, a, item) => {
    for (let r = item * REDUCE_ROWS; r < Math.min(a.rows, (item + 1) * REDUCE_ROWS); r++) {
      const t = Math.floor(r / a.rowsPerTap);
      const src = a.acc + (t * a.kq + (r - t * a.rowsPerTap)) * a.co8 * 4;
      for (let p = 1; p < a.used; p++) addRows(h, src, src + p * a.accBytes, a.co8 * 4, 1, a.co8, a.ones, a.zeros);
      const f32 = h.views().f32;
      const dst = (a.out >>> 2) + r * a.co;
      if (a.co >= 16) f32.copyWithin(dst, src >>> 2, (src >>> 2) + a.co);
      else for (let q = 0; q < a.co; q++) f32[dst + q] = f32[(src >>> 2) + q]!;
    }
  },
);

/** The stripes over a prepared indirection, then their sum into `out` [T·rowsPerTap][co]. */
function accumulate(
  h: WasmHeap,
  a: { indir: number; T: number; kq: number; ci: number; co8: number; M: number; gather: number; rowFloats: number; dy: number },
  rowsPerTap: number,
  co: number,
  out: number,
): void {
  const stripes = Math.max(1, Math.min(STRIPES, Math.ceil(a.M / BLOCK)));
  const accBytes = a.T * a.kq * a.co8 * 4;
  const packBytes = a.gather ? BLOCK * a.rowFloats * 4 + 64 : 0;
  const scratch = h.malloc(stripes * accBytes + h.width * (packBytes + BLOCK * 4) + 8 * a.co8 + 64);
  try {
    const acc = ((scratch + 15) & ~15) >>> 0;
    const pack = acc + stripes * accBytes;
    const ptrs = pack + h.width * packBytes;
    const ones = ptrs + h.width * BLOCK * 4;
    const zeros = ones + 4 * a.co8;
    const f32 = h.views().f32;
    f32.fill(1, ones >>> 2, (ones >>> 2) + a.co8);
    f32.fill(0, zeros >>> 2, (zeros >>> 2) + a.co8);
    h.parallel(stripeJob, { ...a, acc, accBytes, pack, packBytes, ptrs, stripes }, stripes);
    const rows = a.T * rowsPerTap;
    h.parallel(
      reduceJob,
      { acc, accBytes, used: stripes, rowsPerTap, rows, kq: a.kq, co8: a.co8, co, out, ones, zeros },
      Math.ceil(rows / REDUCE_ROWS),
    );
  } finally {
    h.free(scratch);
  }
}

/** Weight gradient dW[kh, kw, Ci, Co] = Σ_pixels x_tapᵀ · dy (NHWC x and dy). */
export function directBackpropFilter(h: WasmHeap, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  if (isMergeable(g) && g.outChannels % 8 === 0) return backpropFilterMerged(h, x, dy, g);
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = g;
  const taps = kh * kw;
  const ci4 = Math.ceil(ci / 4) * 4;
  const co8 = Math.ceil(co / 8) * 8;
  const M = g.batch * g.outHeight * g.outWidth;
  const padDy = co8 !== co;
  // Narrow inputs (the stem's 3 channels) are read in place, padded to 4 channels: their rows are 16-64 bytes
  // apart, no cache-set conflicts, and a per-row gather would cost more than the arithmetic.
  const gather = ci4 >= 32;
  const inPixels = g.batch * g.inHeight * g.inWidth;
  const padX = !gather && ci4 !== ci;
  // scratch: [indirection M·taps i32][zero row ci4][padded x?][padded dy?]
  const indirBytes = M * taps * 4;
  const zeroBytes = ci4 * 4 + 16;
  const xBytes = padX ? inPixels * ci4 * 4 + 16 : 0;
  const dyBytes = padDy ? M * co8 * 4 + 32 : 0;
  const scratch = h.malloc(indirBytes + zeroBytes + xBytes + dyBytes + 64);
  const out = h.backend.makeOutput([kh, kw, ci, co], 'float32');
  try {
    const zero = scratch + indirBytes;
    const xPad = ((zero + zeroBytes + 15) & ~15) >>> 0;
    const dyPad = xPad + xBytes;
    const { f32, i32 } = h.views();
    f32.fill(0, zero >>> 2, (zero + zeroBytes) >>> 2);
    let xPtr = h.ptr(x);
    if (padX) {
      const src = xPtr >>> 2;
      const dst = xPad >>> 2;
      f32.fill(0, dst, dst + inPixels * ci4);
      for (let p = 0; p < inPixels; p++) for (let c = 0; c < ci; c++) f32[dst + p * ci4 + c] = f32[src + p * ci + c]!;
      xPtr = xPad;
    }
    let dyPtr = h.ptr(dy);
    if (padDy) {
      const src = dyPtr >>> 2;
      const dst = dyPad >>> 2;
      for (let m = 0; m < M; m++) {
        for (let q = 0; q < co; q++) f32[dst + m * co8 + q] = f32[src + m * co + q]!;
        for (let q = co; q < co8; q++) f32[dst + m * co8 + q] = 0;
      }
      dyPtr = dyPad;
    }
    // the indirection holds input-row addresses, `zero` in the padding
    indirection(i32, scratch >>> 2, g, xPtr, (gather ? ci : ci4) * 4, zero, 'pixels', M);
    // packed rows: ci4 floats + 4 (16 bytes) so that consecutive rows land in different cache sets
    const a = { indir: scratch, T: taps, kq: ci4, ci, co8, M, gather: gather ? 1 : 0, rowFloats: ci4 + 4, dy: dyPtr };
    accumulate(h, a, ci, co, h.ptr(out));
  } finally {
    h.free(scratch);
  }
  return out;
}

/**
 * Weight gradient of a narrow-input convolution with merged taps (see {@link isMergeable}): dW viewed as
 * [kh][kw·Ci][Co], each filter row's kw·Ci inputs read as one row of the padded input. The kernel reads rows
 * in fours, so up to 3 floats past kw·Ci (the next pixel's): they only reach gradient rows that are dropped.
 */
function backpropFilterMerged(h: WasmHeap, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = g;
  const K = kw * ci;
  const K4 = Math.ceil(K / 4) * 4;
  const M = g.batch * g.outHeight * g.outWidth;
  const wp = paddedWidth(g);
  const indirBytes = M * kh * 4;
  const zeroBytes = K4 * 4 + 16;
  const xpBytes = g.batch * g.inHeight * wp * ci * 4 + 32;
  const scratch = h.malloc(indirBytes + zeroBytes + xpBytes + 32);
  const out = h.backend.makeOutput([kh, kw, ci, co], 'float32');
  try {
    const zero = scratch + indirBytes;
    const xp = ((zero + zeroBytes + 15) & ~15) >>> 0;
    const { f32, i32 } = h.views();
    f32.fill(0, zero >>> 2, (zero + zeroBytes) >>> 2);
    padRows(f32, h.ptr(x), xp, g, wp);
    mergedIndirection(i32, scratch >>> 2, g, xp, wp, zero, 'pixels', M);
    accumulate(
      h,
      { indir: scratch, T: kh, kq: K4, ci: K, co8: co, M, gather: 0, rowFloats: 0, dy: h.ptr(dy) },
      K,
      co,
      h.ptr(out),
    );
  } finally {
    h.free(scratch);
  }
  return out;
}

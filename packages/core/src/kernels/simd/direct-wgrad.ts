/**
 * The weight gradient of the direct convolution on the SIMD engine: dW += x_tapᵀ · dy over blocks of output pixels
 * (the `wgrad` kernel, 4 input × 8 output channels per tile).
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { ConvGeometry } from '../conv-geometry.js';
import { indirection, isMergeable, mergedIndirection, padRows, paddedWidth } from './indirection.js';
import type { WasmHeap } from './wasm-heap.js';

/**
 * Weight gradient dW[kh, kw, Ci, Co] = Σ_pixels x_tapᵀ · dy (NHWC x and dy).
 *
 * Pixels go in blocks of 64. For each block and tap, the block's input rows are first gathered into a packed
 * buffer whose row stride is not a power of two: read in place, 64 rows `Ci·4` bytes apart (1 KB for 256
 * channels) fall into a handful of L1 cache sets and evict each other between the input-channel tiles.
 */
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
  // packed rows: ci4 floats + 4 (16 bytes) so that consecutive rows land in different cache sets
  const rowFloats = ci4 + 4;
  // Pixels per block: 64 keeps a call's dy rows (64 pixels × 64 channels, 16 KB) in L1 (larger blocks, which
  // stream the dW accumulator fewer times, measured slower).
  const block = 64;
  // scratch: [indirection M·taps i32][zero row ci4][packed block rows | padded x][block pointers][padded dy?][dW]
  const indirBytes = M * taps * 4;
  const zeroBytes = ci4 * 4 + 16;
  const packBytes = gather ? block * rowFloats * 4 + 16 : padX ? inPixels * ci4 * 4 + 16 : 16;
  const ptrBytes = block * 4;
  const dyBytes = padDy ? M * co8 * 4 + 32 : 0;
  const outBytes = taps * ci4 * co8 * 4;
  const scratch = h.malloc(indirBytes + zeroBytes + packBytes + ptrBytes + dyBytes + outBytes + 32);
  const out = h.backend.makeOutput([kh, kw, ci, co], 'float32');
  try {
    const zero = scratch + indirBytes;
    const pack = (zero + zeroBytes + 15) & ~15;
    const ptrs = pack + packBytes;
    const dyPad = ptrs + ptrBytes;
    const acc = dyPad + dyBytes;
    const { f32, i32 } = h.views();
    f32.fill(0, zero >> 2, (zero + zeroBytes) >> 2);
    f32.fill(0, acc >> 2, (acc + outBytes) >> 2);
    // the packed rows' padding lanes (ci..ci4) stay zero: only ci floats are copied into each row
    f32.fill(0, pack >> 2, (pack + packBytes) >> 2);
    for (let r = 0; r < block; r++) i32[(ptrs >> 2) + r] = pack + r * rowFloats * 4;
    let xPtr = h.ptr(x);
    if (padX) {
      const src = xPtr >> 2;
      const dst = pack >> 2;
      for (let p = 0; p < inPixels; p++) for (let c = 0; c < ci; c++) f32[dst + p * ci4 + c] = f32[src + p * ci + c]!;
      xPtr = pack;
    }
    let dyPtr = h.ptr(dy);
    if (padDy) {
      const src = dyPtr >> 2;
      const dst = dyPad >> 2;
      for (let m = 0; m < M; m++) {
        for (let q = 0; q < co; q++) f32[dst + m * co8 + q] = f32[src + m * co + q]!;
        for (let q = co; q < co8; q++) f32[dst + m * co8 + q] = 0;
      }
      dyPtr = dyPad;
    }
    // the indirection holds input-row addresses, `zero` in the padding
    indirection(i32, scratch >> 2, g, xPtr, (gather ? ci : ci4) * 4, zero, 'pixels', M);
    const k = h.kernels;
    const ldy = co8 * 4;
    const ldo = co8 * 4;
    const chunk = 64;
    const I = scratch >> 2;
    const P = pack >> 2;
    for (let m0 = 0; m0 < M; m0 += block) {
      const count = Math.min(block, M - m0);
      if (!gather) {
        for (let q0 = 0; q0 < co8; q0 += chunk) {
          const tiles = Math.min(chunk, co8 - q0) / 8;
          const d = dyPtr + m0 * ldy + q0 * 4;
          for (let t = 0; t < taps; t++) {
            const ind = scratch + (m0 * taps + t) * 4;
            for (let c = 0; c < ci4; c += 4) {
              k.wgrad(ind, taps * 4, count, c * 4, d, ldy, acc + ((t * ci4 + c) * co8 + q0) * 4, ldo, tiles);
            }
          }
        }
        continue;
      }
      for (let t = 0; t < taps; t++) {
        // gather the block's rows for this tap
        for (let r = 0; r < count; r++) {
          const src = i32[I + (m0 + r) * taps + t]! >> 2;
          const dst = P + r * rowFloats;
          if (ci >= 16) f32.copyWithin(dst, src, src + ci);
          else for (let c = 0; c < ci; c++) f32[dst + c] = f32[src + c]!;
        }
        for (let q0 = 0; q0 < co8; q0 += chunk) {
          const tiles = Math.min(chunk, co8 - q0) / 8;
          const d = dyPtr + m0 * ldy + q0 * 4;
          for (let c = 0; c < ci4; c += 4) {
            k.wgrad(ptrs, 4, count, c * 4, d, ldy, acc + ((t * ci4 + c) * co8 + q0) * 4, ldo, tiles);
          }
        }
      }
    }
    const { f32: f } = h.views();
    const outPtr = h.ptr(out) >> 2;
    for (let t = 0; t < taps; t++) {
      for (let c = 0; c < ci; c++) {
        const src = (acc >> 2) + (t * ci4 + c) * co8;
        if (co >= 16) f.copyWithin(outPtr + (t * ci + c) * co, src, src + co);
        else for (let q = 0; q < co; q++) f[outPtr + (t * ci + c) * co + q] = f[src + q]!;
      }
    }
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
  const outBytes = kh * K4 * co * 4;
  const scratch = h.malloc(indirBytes + zeroBytes + xpBytes + outBytes + 32);
  const out = h.backend.makeOutput([kh, kw, ci, co], 'float32');
  try {
    const zero = scratch + indirBytes;
    const xp = (zero + zeroBytes + 15) & ~15;
    const acc = (xp + xpBytes + 15) & ~15;
    const { f32, i32 } = h.views();
    f32.fill(0, zero >> 2, (zero + zeroBytes) >> 2);
    f32.fill(0, acc >> 2, (acc + outBytes) >> 2);
    padRows(f32, h.ptr(x), xp, g, wp);
    mergedIndirection(i32, scratch >> 2, g, xp, wp, zero, 'pixels', M);
    const k = h.kernels;
    const dyPtr = h.ptr(dy);
    const ld = co * 4;
    const block = 64;
    const chunk = 64;
    for (let m0 = 0; m0 < M; m0 += block) {
      const count = Math.min(block, M - m0);
      for (let q0 = 0; q0 < co; q0 += chunk) {
        const tiles = Math.min(chunk, co - q0) / 8;
        const d = dyPtr + m0 * ld + q0 * 4;
        for (let t = 0; t < kh; t++) {
          const ind = scratch + (m0 * kh + t) * 4;
          for (let c = 0; c < K4; c += 4) k.wgrad(ind, kh * 4, count, c * 4, d, ld, acc + ((t * K4 + c) * co + q0) * 4, ld, tiles);
        }
      }
    }
    const { f32: f } = h.views();
    const outPtr = h.ptr(out) >> 2;
    for (let t = 0; t < kh; t++) {
      const src = (acc >> 2) + t * K4 * co;
      f.copyWithin(outPtr + t * K * co, src, src + K * co);
    }
  } finally {
    h.free(scratch);
  }
  return out;
}

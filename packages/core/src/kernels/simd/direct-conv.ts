/**
 * Direct convolution on the SIMD engine: the forward pass (optionally + bias and relu/relu6) and the input gradient,
 * both igemm over an indirection buffer (conv-kernels.ts), the filter packed once per filter tensor (cached while
 * it lives). The tile loops run in JS, one wasm call per run of 4×8 tiles.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { ConvGeometry } from '../conv-geometry.js';
import { cachedHostFilters } from '../filter-cache.js';
import { packFilter, packFilterTransposed } from './filter-packing.js';
import { indirection, isMergeable, mergedIndirection, padRows, paddedWidth } from './indirection.js';
import type { WasmHeap } from './wasm-heap.js';

/**
 * Forward convolution (NHWC, HWIO filter), optionally + bias [Co] and relu (act 1) / relu6 (act 2);
 * returns the output tensor [N, OH, OW, Co].
 */
export function directConv2d(h: WasmHeap, x: TensorInfo, filter: TensorInfo, g: ConvGeometry, bias: TensorInfo | null = null, act: 0 | 1 | 2 = 0): TensorInfo {
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = g;
  const taps = kh * kw;
  const co8 = Math.ceil(co / 8) * 8;
  const M = g.batch * g.outHeight * g.outWidth;
  const G = Math.ceil(M / 4);
  const [packed] = cachedHostFilters(h.backend, filter, `simd-igemm ${taps}x${ci}x${co}`, (w) => [
    { shape: [co8 * taps * ci], values: packFilter(w, taps, ci, co) },
  ]);
  const out = h.backend.makeOutput([g.batch, g.outHeight, g.outWidth, co], 'float32');
  const direct = co % 8 === 0;
  // Narrow inputs (the stem's 3 channels): a filter row's kw taps read kw consecutive pixels, i.e. kw·Ci
  // contiguous floats of a horizontally padded copy, so the kernel runs kh taps of kw·Ci instead of kh·kw taps
  // of Ci (the packed filter is the same).
  const merged = isMergeable(g);
  const T = merged ? kh : taps;
  const K = merged ? kw * ci : ci;
  const wp = merged ? paddedWidth(g) : 0;
  // scratch: indirection [G][T][4] | zero row [K] | output rows (tail tile, or all when co % 8 != 0) | padded x
  const scratchRows = direct ? 4 : G * 4;
  const indirBytes = G * T * 16;
  const zeroBytes = Math.ceil((K * 4) / 16) * 16 + 32;
  const biasBytes = bias ? co8 * 4 : 0;
  const rowsBytes = scratchRows * co8 * 4;
  const xpBytes = merged ? g.batch * g.inHeight * wp * ci * 4 + 16 : 0;
  const scratch = h.malloc(indirBytes + zeroBytes + biasBytes + rowsBytes + xpBytes + 16);
  try {
    const zero = scratch + indirBytes;
    const biasPtr = bias ? zero + zeroBytes : zero;
    const rowsPtr = zero + zeroBytes + biasBytes;
    const { f32, i32 } = h.views();
    f32.fill(0, zero >> 2, (zero + zeroBytes) >> 2);
    if (bias) {
      const src = h.ptr(bias) >> 2;
      f32.copyWithin(biasPtr >> 2, src, src + co);
      f32.fill(0, (biasPtr >> 2) + co, (biasPtr >> 2) + co8);
    }
    const xPtr = h.ptr(x);
    if (merged) {
      const xp = (rowsPtr + rowsBytes + 15) & ~15;
      padRows(f32, xPtr, xp, g, wp);
      mergedIndirection(i32, scratch >> 2, g, xp, wp, zero, 'groups', G * 4);
    } else {
      indirection(i32, scratch >> 2, g, xPtr, ci * 4, zero, 'groups', G * 4);
    }
    const wPtr = h.ptr(packed!);
    const outPtr = h.ptr(out);
    const k = h.kernels;
    const panelBytes = taps * ci * 32;
    const ldc = direct ? co * 4 : co8 * 4;
    const fullGroups = direct ? Math.floor(M / 4) : G;
    for (let j = 0; j < co8; j += 8) {
      const w = wPtr + (j / 8) * panelBytes;
      const bj = bias ? biasPtr + j * 4 : zero;
      if (fullGroups > 0) k.igemm(scratch, T, K, w, (direct ? outPtr : rowsPtr) + j * 4, ldc, bj, act, fullGroups);
      if (direct && fullGroups < G) {
        // the last, partial group: compute into the scratch rows, copy the valid ones
        k.igemm(scratch + fullGroups * T * 16, T, K, w, rowsPtr + j * 4, co8 * 4, bj, act, 1);
      }
    }
    const { f32: f } = h.views();
    if (direct && fullGroups < G) {
      for (let m = fullGroups * 4; m < M; m++) {
        const src = (rowsPtr >> 2) + (m - fullGroups * 4) * co8;
        f.copyWithin((outPtr >> 2) + m * co, src, src + co);
      }
    } else if (!direct) {
      for (let m = 0; m < M; m++) f.copyWithin((outPtr >> 2) + m * co, (rowsPtr >> 2) + m * co8, (rowsPtr >> 2) + m * co8 + co);
    }
  } finally {
    h.free(scratch);
  }
  return out;
}

/**
 * Input gradient of a convolution (the transposed convolution), any stride: the dx pixels are grouped by stride
 * phase ((y + pt) mod sh, (x + pl) mod sw); a phase only meets the filter taps of the same phase, so each is one
 * igemm over exactly its taps (no multiplications by inserted zeros), reading dy rows through an indirection
 * buffer and writing its scattered dx rows through an output-pointer array.
 */
export function directBackpropInput(h: WasmHeap, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = g;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = g;
  const ci8 = Math.ceil(ci / 8) * 8;
  const H = g.inHeight;
  const W = g.inWidth;
  const pixels = g.batch * H * W;
  // phases and their taps (index i·kw + j)
  const phases: Array<{ ry: number; rx: number; taps: number[] }> = [];
  for (let ry = 0; ry < sh; ry++) {
    for (let rx = 0; rx < sw; rx++) {
      const taps: number[] = [];
      for (let i = 0; i < kh; i++) {
        if ((i * dh) % sh !== ry) continue;
        for (let j = 0; j < kw; j++) if ((j * dw) % sw === rx) taps.push(i * kw + j);
      }
      phases.push({ ry, rx, taps });
    }
  }
  const live = phases.filter((p) => p.taps.length > 0);
  const packed = cachedHostFilters(h.backend, filter, `simd-bpi ${sh}x${sw} ${dh}x${dw} ${kh}x${kw}x${ci}x${co}`, (w) =>
    live.map((p) => ({ shape: [(ci8 / 8) * p.taps.length * co * 8], values: packFilterTransposed(w, p.taps, ci, co) })),
  );
  const dx = h.backend.makeOutput([g.batch, H, W, ci], 'float32');
  const direct = ci % 8 === 0;
  // scratch per phase (largest): indirection [G][taps][4] and output pointers [G][4]; zero row; spare rows;
  // an output buffer [pixels][ci8] when ci is not a multiple of 8.
  const maxPix = Math.ceil(H / sh) * Math.ceil(W / sw) * g.batch;
  const maxG = Math.ceil(maxPix / 4);
  const maxTaps = Math.max(1, ...live.map((p) => p.taps.length));
  const indirBytes = maxG * maxTaps * 16;
  const outIndBytes = maxG * 16;
  const zeroBytes = Math.ceil((co * 4) / 16) * 16 + 32;
  const spareBytes = 4 * ci8 * 4;
  const bufBytes = direct ? 0 : pixels * ci8 * 4;
  const scratch = h.malloc(indirBytes + outIndBytes + zeroBytes + spareBytes + bufBytes + 64);
  try {
    const indir = scratch;
    const outInd = indir + indirBytes;
    const zero = outInd + outIndBytes;
    const spare = zero + zeroBytes;
    const buf = spare + spareBytes;
    let { f32, i32 } = h.views();
    f32.fill(0, zero >> 2, (zero + zeroBytes) >> 2);
    const dyPtr = h.ptr(dy);
    const dxPtr = h.ptr(dx);
    const outBase = direct ? dxPtr : buf;
    const rowBytes = (direct ? ci : ci8) * 4;
    // pixels of a phase with no tap get no gradient
    if (live.length < phases.length) f32.fill(0, outBase >> 2, (outBase + pixels * rowBytes) >> 2);
    live.forEach((p, pi) => {
      ({ f32, i32 } = h.views());
      const taps = p.taps.length;
      let m = 0;
      const I = indir >> 2;
      const O = outInd >> 2;
      for (let n = 0; n < g.batch; n++) {
        for (let y = 0; y < H; y++) {
          if ((((y + g.padTop) % sh) + sh) % sh !== p.ry) continue;
          for (let x = 0; x < W; x++) {
            if ((((x + g.padLeft) % sw) + sw) % sw !== p.rx) continue;
            const base = I + (m >> 2) * taps * 4 + (m & 3);
            for (let t = 0; t < taps; t++) {
              const tap = p.taps[t]!;
              const i = Math.floor(tap / kw);
              const j = tap - i * kw;
              const oy = (y + g.padTop - i * dh) / sh;
              const ox = (x + g.padLeft - j * dw) / sw;
              i32[base + t * 4] =
                oy >= 0 && oy < g.outHeight && ox >= 0 && ox < g.outWidth
                  ? dyPtr + ((n * g.outHeight + oy) * g.outWidth + ox) * co * 4
                  : zero;
            }
            i32[O + m] = outBase + ((n * H + y) * W + x) * rowBytes;
            m++;
          }
        }
      }
      const groups = Math.ceil(m / 4);
      for (; m < groups * 4; m++) {
        const base = I + (m >> 2) * taps * 4 + (m & 3);
        for (let t = 0; t < taps; t++) i32[base + t * 4] = zero;
        i32[O + m] = spare; // the tail's extra rows land in the spare rows (overwritten, never read)
      }
      if (groups === 0) return;
      const w = h.ptr(packed[pi]!);
      const panelBytes = taps * co * 32;
      for (let q = 0; q < ci8; q += 8) {
        // every output pointer + q·4: shift the whole pointer array, run, shift back
        if (q > 0) for (let k = 0; k < groups * 4; k++) i32[O + k] = i32[O + k]! + 32;
        h.kernels.igemmo(indir, taps, co, w + (q / 8) * panelBytes, outInd, 0, zero, 0, groups);
      }
    });
    if (!direct) {
      ({ f32 } = h.views());
      for (let px = 0; px < pixels; px++) f32.copyWithin((dxPtr >> 2) + px * ci, (buf >> 2) + px * ci8, (buf >> 2) + px * ci8 + ci);
    }
  } finally {
    h.free(scratch);
  }
  return dx;
}

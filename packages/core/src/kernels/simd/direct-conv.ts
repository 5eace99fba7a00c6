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
import { defineJob } from './kernel-job.js';
import type { WasmHeap } from './wasm-heap.js';

/** 4-row groups per item of a parallel GEMM: about 4 items per thread, at least 16 groups each. */
const groupsPerItem = (h: WasmHeap, groups: number): number => Math.max(16, Math.ceil(groups / (4 * h.width)));

/** Groups [chunk·item, chunk·item + chunk) of an igemm over the indirection, for every 8-column panel. */
const igemmJob = defineJob(
  'direct.igemm',
  ['indir', 'taps', 'kc', 'w', 'panelBytes', 'out', 'ldc', 'bias', 'biasStep', 'act', 'panels', 'groups', 'chunk'],
  (h, a, item) => {
    const g0 = item * a.chunk;
    const n = Math.min(a.chunk, a.groups - g0);
    for (let p = 0; p < a.panels; p++) {
      h.kernels.igemm(
        a.indir + g0 * a.taps * 16,
        a.taps,
        a.kc,
        a.w + p * a.panelBytes,
        a.out + g0 * 4 * a.ldc + p * 32,
        a.ldc,
        a.bias + p * a.biasStep,
        a.act,
        n,
      );
    }
  },
);

/**
 * Groups [chunk·item, chunk·item + chunk) of a plain GEMM C = A·W (+ bias, act) over every panel: A rows lda bytes
 * apart (a 1×1 stride-1 convolution reads its input rows in place, no indirection).
 */
const gemmJob = defineJob(
  'direct.gemm',
  ['a', 'lda', 'kc', 'w', 'out', 'ldc', 'bias', 'act', 'panels', 'groups', 'chunk'],
  (h, a, item) => {
    const g0 = item * a.chunk;
    const n = Math.min(a.chunk, a.groups - g0);
    h.kernels.gemm(a.a + g0 * 4 * a.lda, a.lda, a.kc, a.w, a.out + g0 * 4 * a.ldc, a.ldc, a.bias, a.act, n, a.panels);
  },
);

/**
 * Groups [chunk·item, …) of a phase of the input gradient (igemm with output-row pointers) over every panel of 8
 * input channels: the group's output pointers move 32 bytes per panel (each item shifts only its own).
 */
const igemmoJob = defineJob(
  'direct.igemmo',
  ['indir', 'taps', 'kc', 'w', 'panelBytes', 'outs', 'zero', 'panels', 'groups', 'chunk'],
  (h, a, item) => {
    const g0 = item * a.chunk;
    const n = Math.min(a.chunk, a.groups - g0);
    const i32 = h.views().i32;
    const O = (a.outs >>> 2) + g0 * 4;
    for (let p = 0; p < a.panels; p++) {
      if (p > 0) for (let k = 0; k < n * 4; k++) i32[O + k] = i32[O + k]! + 32;
      h.kernels.igemmo(a.indir + g0 * a.taps * 16, a.taps, a.kc, a.w + p * a.panelBytes, a.outs + g0 * 16, 0, a.zero, 0, n);
    }
  },
);

/** Calls that took the plain-GEMM path of 1×1 convolutions (tests check that the path is taken). @internal */
export const pointwiseCalls = { forward: 0, backpropInput: 0 };

/** A 1×1 convolution without stride, dilation or padding: a plain GEMM over the pixels. */
const isPointwise = (g: ConvGeometry): boolean =>
  g.filterHeight === 1 && g.filterWidth === 1 && g.strideHeight === 1 && g.strideWidth === 1 && g.padTop === 0 && g.padLeft === 0;

/**
 * out[M][N] = A[M][K] · packed W (+ bias [N] or none, act) as a GEMM, A rows lda bytes apart; the full 4-row groups
 * in parallel, the last partial group through zero-padded scratch rows (A and out are not read or written past
 * their end).
 */
function pointwiseGemm(
  h: WasmHeap,
  a: number,
  lda: number,
  kc: number,
  w: number,
  out: number,
  n: number,
  bias: number | null,
  act: 0 | 1 | 2,
  M: number,
): void {
  // scratch: n zeros (no bias), 4 rows of kc floats (the tail of A), 4 rows of n floats (the tail of out)
  const scratch = h.malloc((n + 4 * (kc + n)) * 4 + 64);
  try {
    const zero = ((scratch + 15) & ~15) >>> 0;
    const aRows = zero + n * 4;
    const cRows = aRows + 4 * kc * 4;
    const f32 = h.views().f32;
    f32.fill(0, zero >>> 2, (zero >>> 2) + n + 4 * kc);
    const b = bias ?? zero;
    const full = Math.floor(M / 4);
    if (full > 0) {
      const chunk = groupsPerItem(h, full);
      h.parallel(
        gemmJob,
        { a, lda, kc, w, out, ldc: n * 4, bias: b, act, panels: n / 8, groups: full, chunk },
        Math.ceil(full / chunk),
      );
    }
    const tail = M - full * 4;
    if (tail === 0) return;
    const v = h.views().f32;
    for (let r = 0; r < tail; r++)
      v.copyWithin((aRows >>> 2) + r * kc, (a + (full * 4 + r) * lda) >>> 2, ((a + (full * 4 + r) * lda) >>> 2) + kc);
    h.kernels.gemm(aRows, kc * 4, kc, w, cRows, n * 4, b, act, 1, n / 8);
    for (let r = 0; r < tail; r++)
      v.copyWithin((out >>> 2) + (full * 4 + r) * n, (cRows >>> 2) + r * n, (cRows >>> 2) + r * n + n);
  } finally {
    h.free(scratch);
  }
}

/**
 * Forward convolution (NHWC, HWIO filter), optionally + bias [Co] and relu (act 1) / relu6 (act 2);
 * returns the output tensor [N, OH, OW, Co].
 */
export function directConv2d(
  h: WasmHeap,
  x: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
  bias: TensorInfo | null = null,
  act: 0 | 1 | 2 = 0,
): TensorInfo {
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
  if (direct && isPointwise(g)) {
    pointwiseCalls.forward++;
    pointwiseGemm(h, h.ptr(x), ci * 4, ci, h.ptr(packed!), h.ptr(out), co, bias ? h.ptr(bias) : null, act, M);
    return out;
  }
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
    f32.fill(0, zero >>> 2, (zero + zeroBytes) >>> 2);
    if (bias) {
      const src = h.ptr(bias) >>> 2;
      f32.copyWithin(biasPtr >>> 2, src, src + co);
      f32.fill(0, (biasPtr >>> 2) + co, (biasPtr >>> 2) + co8);
    }
    const xPtr = h.ptr(x);
    if (merged) {
      const xp = ((rowsPtr + rowsBytes + 15) & ~15) >>> 0;
      padRows(f32, xPtr, xp, g, wp);
      mergedIndirection(i32, scratch >>> 2, g, xp, wp, zero, 'groups', G * 4);
    } else {
      indirection(i32, scratch >>> 2, g, xPtr, ci * 4, zero, 'groups', G * 4);
    }
    const wPtr = h.ptr(packed!);
    const outPtr = h.ptr(out);
    const k = h.kernels;
    const panelBytes = taps * ci * 32;
    const ldc = direct ? co * 4 : co8 * 4;
    const fullGroups = direct ? Math.floor(M / 4) : G;
    if (fullGroups > 0) {
      const chunk = groupsPerItem(h, fullGroups);
      const args = {
        indir: scratch,
        taps: T,
        kc: K,
        w: wPtr,
        panelBytes,
        out: direct ? outPtr : rowsPtr,
        ldc,
        bias: bias ? biasPtr : zero,
        biasStep: bias ? 32 : 0,
        act,
        panels: co8 / 8,
        groups: fullGroups,
        chunk,
      };
      h.parallel(igemmJob, args, Math.ceil(fullGroups / chunk));
    }
    if (direct && fullGroups < G) {
      // the last, partial group: compute into the scratch rows, copy the valid ones
      for (let j = 0; j < co8; j += 8)
        k.igemm(
          scratch + fullGroups * T * 16,
          T,
          K,
          wPtr + (j / 8) * panelBytes,
          rowsPtr + j * 4,
          co8 * 4,
          bias ? biasPtr + j * 4 : zero,
          act,
          1,
        );
    }
    const { f32: f } = h.views();
    if (direct && fullGroups < G) {
      for (let m = fullGroups * 4; m < M; m++) {
        const src = (rowsPtr >>> 2) + (m - fullGroups * 4) * co8;
        f.copyWithin((outPtr >>> 2) + m * co, src, src + co);
      }
    } else if (!direct) {
      for (let m = 0; m < M; m++)
        f.copyWithin((outPtr >>> 2) + m * co, (rowsPtr >>> 2) + m * co8, (rowsPtr >>> 2) + m * co8 + co);
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
  if (direct && isPointwise(g)) {
    // dx = dy · Wᵀ: dy's rows in place, the transposed panels [Ci/8][Co][8]
    pointwiseCalls.backpropInput++;
    pointwiseGemm(h, h.ptr(dy), co * 4, co, h.ptr(packed[0]!), h.ptr(dx), ci, null, 0, pixels);
    return dx;
  }
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
    f32.fill(0, zero >>> 2, (zero + zeroBytes) >>> 2);
    const dyPtr = h.ptr(dy);
    const dxPtr = h.ptr(dx);
    const outBase = direct ? dxPtr : buf;
    const rowBytes = (direct ? ci : ci8) * 4;
    // pixels of a phase with no tap get no gradient
    if (live.length < phases.length) f32.fill(0, outBase >>> 2, (outBase + pixels * rowBytes) >>> 2);
    live.forEach((p, pi) => {
      ({ f32, i32 } = h.views());
      const taps = p.taps.length;
      let m = 0;
      const I = indir >>> 2;
      const O = outInd >>> 2;
      for (let n = 0; n < g.batch; n++) {
        for (let y = 0; y < H; y++) {
          if ((((y + g.padTop) % sh) + sh) % sh !== p.ry) continue;
          for (let x = 0; x < W; x++) {
            if ((((x + g.padLeft) % sw) + sw) % sw !== p.rx) continue;
            const base = I + (m >>> 2) * taps * 4 + (m & 3);
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
        const base = I + (m >>> 2) * taps * 4 + (m & 3);
        for (let t = 0; t < taps; t++) i32[base + t * 4] = zero;
        i32[O + m] = spare; // the tail's extra rows land in the spare rows (overwritten, never read)
      }
      if (groups === 0) return;
      const chunk = groupsPerItem(h, groups);
      const args = {
        indir,
        taps,
        kc: co,
        w: h.ptr(packed[pi]!),
        panelBytes: taps * co * 32,
        outs: outInd,
        zero,
        panels: ci8 / 8,
        groups,
        chunk,
      };
      h.parallel(igemmoJob, args, Math.ceil(groups / chunk));
    });
    if (!direct) {
      ({ f32 } = h.views());
      for (let px = 0; px < pixels; px++)
        f32.copyWithin((dxPtr >>> 2) + px * ci, (buf >>> 2) + px * ci8, (buf >>> 2) + px * ci8 + ci);
    }
  } finally {
    h.free(scratch);
  }
  return dx;
}

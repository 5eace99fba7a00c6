/**
 * 3×3 stride-1 convolutions with Winograd's F(4×4, 3×3): every 4×4 output tile costs 36 multiplications per
 * channel pair instead of 144 (4× fewer multiply-adds than the direct convolution, 1.8× fewer than F(2×2, 3×3)),
 * for the forward pass, the input gradient and the weight gradient. Per call, the images go in passes (a zero-padded
 * copy of their input covering every tile's 6×6 window), their tiles in blocks whose transformed planes stay in
 * the core's caches:
 *
 * - forward / input gradient, per block: `w4in` transforms the windows into 36 planes V_ξ [tiles][C]; one GEMM per
 *   plane, M_ξ = V_ξ · U_ξ with the transformed filter U = G g Gᵀ (cached while the filter lives); `w4out` turns the
 *   planes back into 4×4 output tiles (+ bias, relu/relu6).
 * - weight gradient, per block: V as above and Z = A dY Aᵀ of the output-gradient tiles (`w4dy`), S_ξ += V_ξᵀ Z_ξ;
 *   at the end dW = Gᵀ S G (`w4dw`).
 *
 * The tiling, passes and blocks are in winograd-tiles.ts, the weight gradient in winograd-wgrad.ts.
 *
 * Rounding differs from the direct convolution by a few ulps of the largest values (the transforms scale by up to
 * 8 and 1/24); the kernels are checked against tfjs' reference kernels to 1e-4 relative error.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { ConvGeometry } from '../conv-geometry.js';
import { cachedFilters } from '../filter-cache.js';
import type { HeapView } from './heap-view.js';
import { defineJob } from './kernel-job.js';
import type { WasmHeap } from './wasm-heap.js';
import { PLANES, TILE, TRANSFORM_TMP_BYTES } from './winograd-transforms.js';
import {
  blockScratch,
  blockScratchBytes,
  blockTiles,
  correlationOf,
  filterPlane,
  forEachRun,
  CORRELATION,
  imagesPerPass,
  ldmOf,
  ldvOf,
  paddedImageBytes,
  padJob,
  regions,
  tiling,
  transformWindows,
  type BlockScratch,
  type Correlation,
  type Tiling,
} from './winograd-tiles.js';

export { setWinogradBlockBytes, setWinogradPassBytes } from './winograd-tiles.js';
export { winogradBackpropFilter } from './winograd-wgrad.js';

let enabled = true;

/**
 * Turns the Winograd path of the wasm SIMD engine on or off (on by default); off runs every convolution directly.
 * For measurements and tests.
 */
export function setWinogradConvolutions(on: boolean): void {
  enabled = on;
}

/** Whether the Winograd path is on (see {@link setWinogradConvolutions}). */
export function winogradConvolutions(): boolean {
  return enabled;
}

/**
 * Whether a convolution runs as Winograd F(4×4, 3×3): 3×3, stride 1, no dilation, channel counts multiples of 8
 * and at least 16 (fewer channels: the transforms cost more than the multiplications they save), padding of at
 * most 2 on the top and left.
 */
export function isWinogradConvolution(g: ConvGeometry): boolean {
  return (
    enabled &&
    g.filterHeight === 3 &&
    g.filterWidth === 3 &&
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    g.dilationHeight === 1 &&
    g.dilationWidth === 1 &&
    g.inChannels % 8 === 0 &&
    g.outChannels % 8 === 0 &&
    g.inChannels >= 16 &&
    g.outChannels >= 16 &&
    g.padTop >= 0 &&
    g.padTop <= 2 &&
    g.padLeft >= 0 &&
    g.padLeft <= 2
  );
}

/**
 * The transformed filter U_ξ = G g Gᵀ of a HWIO 3×3 filter [3·3·Ci·Co], packed for the GEMM (36 planes of panels
 * [N/8][K][8]) and cached while the filter lives. Forward: K = Ci, N = Co; `transposed` (the input gradient: the
 * filter flipped, channels swapped): K = Co, N = Ci.
 */
function transformedFilter(h: WasmHeap, filter: TensorInfo, ci: number, co: number, transposed: boolean): TensorInfo {
  const key = `simd-winograd4${transposed ? '-t' : ''} ${ci}x${co}`;
  const [u] = cachedFilters(h.backend, filter, key, () => {
    const planeBytes = filterPlane(ci, co);
    const out = h.backend.makeOutput([(PLANES * planeBytes) / 4], 'float32');
    const tmp = h.malloc(h.width * TRANSFORM_TMP_BYTES + 64);
    try {
      const args = {
        src: h.ptr(filter),
        dst: h.ptr(out),
        ci,
        co,
        planeBytes,
        transposed: transposed ? 1 : 0,
        tmp: ((tmp + 15) & ~15) >>> 0,
      };
      h.parallel(filterJob, args, ci / FILTER_CHANNELS);
    } finally {
      h.free(tmp);
    }
    return [out];
  });
  return u!;
}

/** Input channels of the filter per item of {@link filterJob}. */
const FILTER_CHANNELS = 8;

/** The filter transform of FILTER_CHANNELS input channels per item (scratch tile per thread at tmp). */
const filterJob = defineJob(
  'winograd.filter',
  ['src', 'dst', 'ci', 'co', 'planeBytes', 'transposed', 'tmp'],
  (h, a, item, thread) => {
    const { src, dst, ci, co, planeBytes } = a;
    const tmp = a.tmp + thread * TRANSFORM_TMP_BYTES;
    const tapBytes = ci * co * 4;
    for (let i = item * FILTER_CHANNELS; i < (item + 1) * FILTER_CHANNELS; i += a.transposed ? 4 : 1) {
      if (a.transposed)
        h.kernels.w4filtT(
          src + 8 * tapBytes + i * co * 4,
          -tapBytes,
          co * 4,
          co,
          dst + (i >> 3) * co * 32 + (i & 7) * 4,
          planeBytes,
          tmp,
        );
      else h.kernels.w4filt(src + i * co * 4, tapBytes, co / 8, dst + i * 32, planeBytes, ci * 32, tmp);
    }
  },
);

/** What the output transform adds: a bias (n floats: the layer's, or `zero`), then an activation. */
interface Epilogue {
  bias: number;
  /** n floats of zeros (also the GEMMs' zero initial values). */
  zero: number;
  act: 0 | 1 | 2;
}

/** One block of a correlation: tiles [t0, t1) of the pass whose padded input is at xp, output images from outPtr. */
function correlateBlock(
  h: HeapView,
  k: Correlation,
  t: Tiling,
  xp: number,
  u: number,
  outPtr: number,
  e: Epilogue,
  t0: number,
  t1: number,
  s: BlockScratch,
): void {
  transformWindows(h, k, t, xp, t0, t1, s);
  const ldv = ldvOf(k);
  const ldm = ldmOf(k);
  const { xiV, xiM } = s;
  const groups = Math.ceil((t1 - t0) / 4);
  const uPlane = filterPlane(k.c, k.n);
  // zero initial values: the bias is added by the output transform
  for (let xi = 0; xi < PLANES; xi++) {
    h.kernels.gemm(s.v + xi * xiV, ldv, k.c, u + xi * uPlane, s.m + xi * xiM, ldm, e.zero, 0, groups, k.n / 8);
  }
  const pix = k.n * 4;
  const outRow = k.ow * pix;
  const fullCols = Math.floor(k.ow / TILE);
  forEachRun(t, t0, t1, (image, ty, tx, length, at) => {
    const full = TILE * ty + TILE <= k.oh ? Math.max(0, Math.min(length, fullCols - tx)) : 0;
    const dst = outPtr + (image * k.oh + TILE * ty) * outRow + TILE * tx * pix;
    if (full > 0) h.kernels.w4out(s.m + at * ldm, xiM, ldm, k.n / 4, dst, outRow, pix, full, e.bias, e.act, s.tmp);
    for (let j = full; j < length; j++) {
      // an edge tile: the whole 4×4 tile into the stage, then its pixels inside the output
      h.kernels.w4out(s.m + (at + j) * ldm, xiM, ldm, k.n / 4, s.stage, TILE * pix, pix, 1, e.bias, e.act, s.tmp);
      const f32 = h.views().f32;
      const rows = Math.min(TILE, k.oh - TILE * ty);
      const cols = Math.min(TILE, k.ow - TILE * (tx + j));
      for (let r = 0; r < rows; r++) {
        const from = (s.stage >>> 2) + r * TILE * k.n;
        f32.copyWithin((dst + j * TILE * pix + r * outRow) >>> 2, from, from + cols * k.n);
      }
    }
  });
}

/** Block `item` of a pass of a correlation, in the calling thread's block scratch (scratch + thread · stride). */
const correlateJob = defineJob(
  'winograd.correlate',
  [...CORRELATION, 'xp', 'u', 'out', 'bias', 'zero', 'act', 'blockTiles', 'tiles', 'scratch', 'stride'],
  (h, a, item, thread) => {
    const s = blockScratch(a.scratch + thread * a.stride, a, a.blockTiles);
    const t0 = item * a.blockTiles;
    const e: Epilogue = { bias: a.bias, zero: a.zero, act: a.act as 0 | 1 | 2 };
    correlateBlock(h, a, tiling(a), a.xp, a.u, a.out, e, t0, Math.min(a.tiles, t0 + a.blockTiles), s);
  },
);

/**
 * out [batch, oh, ow, n] = the correlation of src with the transformed, packed filter at `u`, + bias (n floats at
 * `biasPtr`, or none), then activation `act` (0 linear, 1 relu, 2 relu6).
 */
function correlate(
  h: WasmHeap,
  k: Correlation,
  srcPtr: number,
  u: number,
  outPtr: number,
  biasPtr: number | null,
  act: 0 | 1 | 2,
): void {
  const t = tiling(k);
  const padBytes = paddedImageBytes(k, t);
  const group = imagesPerPass(k.batch, padBytes);
  const tilesPerBlock = blockTiles(k, 'forward', group * t.perImage);
  const stride = blockScratchBytes(k, tilesPerBlock);
  const sizes = [group * padBytes + 16, h.width * stride, k.n * 4];
  const scratch = h.malloc(regions(0, sizes).bytes + 64);
  try {
    const [xp, blocks, zero] = regions(scratch, sizes).at as [number, number, number];
    h.views().f32.fill(0, zero >>> 2, (zero >>> 2) + k.n);
    const kf = { batch: k.batch, h: k.h, w: k.w, c: k.c, oh: k.oh, ow: k.ow, n: k.n, pt: k.pt, pl: k.pl };
    for (let n0 = 0; n0 < k.batch; n0 += group) {
      const count = Math.min(group, k.batch - n0);
      h.parallel(padJob, { ...kf, src: srcPtr, n0, xp }, count);
      const tiles = count * t.perImage;
      const out = outPtr + n0 * k.oh * k.ow * k.n * 4;
      const args = {
        ...kf,
        xp,
        u,
        out,
        bias: biasPtr ?? zero,
        zero,
        act,
        blockTiles: tilesPerBlock,
        tiles,
        scratch: blocks,
        stride,
      };
      h.parallel(correlateJob, args, Math.ceil(tiles / tilesPerBlock));
    }
  } finally {
    h.free(scratch);
  }
}

function winogradCorrelation(
  h: WasmHeap,
  src: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
  transposed: boolean,
  bias: TensorInfo | null = null,
  act: 0 | 1 | 2 = 0,
): TensorInfo {
  const k = correlationOf(g, transposed);
  const u = transformedFilter(h, filter, g.inChannels, g.outChannels, transposed);
  const out = h.backend.makeOutput([k.batch, k.oh, k.ow, k.n], 'float32');
  correlate(h, k, h.ptr(src), h.ptr(u), h.ptr(out), bias ? h.ptr(bias) : null, act);
  return out;
}

/** Forward convolution with Winograd F(4×4, 3×3), optionally + bias [Co] and relu (act 1) / relu6 (act 2). */
export function winogradConv2d(
  h: WasmHeap,
  x: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
  bias: TensorInfo | null = null,
  act: 0 | 1 | 2 = 0,
): TensorInfo {
  return winogradCorrelation(h, x, filter, g, false, bias, act);
}

/** Input gradient of a Winograd-shaped convolution (the correlation of dy with the flipped, transposed filter). */
export function winogradBackpropInput(h: WasmHeap, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  return winogradCorrelation(h, dy, filter, g, true);
}

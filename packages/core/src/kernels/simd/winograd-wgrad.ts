/**
 * The weight gradient of 3×3 stride-1 convolutions with Winograd's F(4×4, 3×3): per block of tiles, the input
 * windows V = Bᵀ d B and the output-gradient tiles Z = A dY Aᵀ are transformed, S_ξ += V_ξᵀ Z_ξ (the engine's
 * wgrad kernel), and at the end dW = Gᵀ S G (`w4dw`). Tiling, passes and blocks: winograd-tiles.ts.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { ConvGeometry } from '../conv-geometry.js';
import type { HeapView } from './heap-view.js';
import { addRows, defineJob, STRIPES } from './kernel-job.js';
import type { WasmHeap } from './wasm-heap.js';
import { PLANES, TILE, TRANSFORM_TMP_BYTES } from './winograd-transforms.js';
import {
  blockScratch,
  blockScratchBytes,
  blockTiles,
  CORRELATION,
  correlationOf,
  filterPlane,
  forEachRun,
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

/** Input channels per chunk of S (and per item of the final Gᵀ S G). */
const S_CHUNK = 32;
/** Tiles per item of the transform job (when one block holds every tile). */
const TRANSFORM_TILES = 16;

/** Width and height of the output gradient as the dy transform reads it: padded to whole tiles when a side is not a multiple of 4. */
function gradientExtent(k: Correlation, t: Tiling): { dyW: number; dyH: number; padded: boolean } {
  const padded = k.oh % TILE !== 0 || k.ow % TILE !== 0;
  return padded ? { dyW: t.cols * TILE, dyH: t.rows * TILE, padded } : { dyW: k.ow, dyH: k.oh, padded };
}

/** Copies image n0 + item of dy [batch, oh, ow, n] into `dst` + item · dyH·dyW·n floats, zeros beyond the output. */
const padGradientJob = defineJob('winograd.padGradient', [...CORRELATION, 'src', 'n0', 'dst'], (h, a, item) => {
  const { dyW, dyH } = gradientExtent(a, tiling(a));
  const f32 = h.views().f32;
  const d = (a.dst >>> 2) + item * dyH * dyW * a.n;
  f32.fill(0, d, d + dyH * dyW * a.n);
  for (let y = 0; y < a.oh; y++) {
    const from = (a.src >>> 2) + ((a.n0 + item) * a.oh + y) * a.ow * a.n;
    f32.copyWithin(d + y * dyW * a.n, from, from + a.ow * a.n);
  }
});

/** Transforms of tiles [t0, t1) of a pass: input windows (padded x at xp) into V, dy tiles into Z (rows t − first). */
function transformBlock(
  h: HeapView,
  k: Correlation,
  t: Tiling,
  xp: number,
  dy: number,
  t0: number,
  t1: number,
  s: BlockScratch,
  first = t0,
): void {
  transformWindows(h, k, t, xp, t0, t1, s, first);
  const { dyW, dyH } = gradientExtent(k, t);
  const pix = k.n * 4;
  const ldz = ldmOf(k);
  forEachRun(t, t0, t1, (image, ty, tx, length, at) => {
    const src = dy + ((image * dyH + TILE * ty) * dyW + TILE * tx) * pix;
    h.kernels.w4dy(src, dyW * pix, pix, k.n / 4, s.m + (at + t0 - first) * ldz, s.xiM, ldz, length, s.tmp);
  });
}

/**
 * S_ξ[c0 .. c0 + channels) (+)= V_ξᵀ Z_ξ over the block's `count` tiles (V rows through the pointers at `ptrs`);
 * S at `acc`: 36 planes `sPlane` bytes apart of [channels][Co]; `fresh`: overwrite instead of accumulating.
 */
function accumulateS(
  h: HeapView,
  k: Correlation,
  s: BlockScratch,
  ptrs: number,
  count: number,
  acc: number,
  sPlane: number,
  c0: number,
  channels: number,
  fresh: boolean,
): void {
  const co = k.n;
  const ldz = ldmOf(k);
  const chunk = 64;
  const kernel = fresh ? h.kernels.wgrad0 : h.kernels.wgrad;
  for (let xi = 0; xi < PLANES; xi++) {
    for (let q0 = 0; q0 < co; q0 += chunk) {
      const tiles = Math.min(chunk, co - q0) / 8;
      const z = s.m + xi * s.xiM + q0 * 4;
      for (let c = 0; c < channels; c += 4) {
        kernel(ptrs, 4, count, xi * s.xiV + (c0 + c) * 4, z, ldz, acc + xi * sPlane + (c * co + q0) * 4, co * 4, tiles);
      }
    }
  }
}

/** Fields shared by the weight-gradient jobs. */
const WGRAD = [...CORRELATION, 'xp', 'dy', 'out', 'blockTiles', 'tiles', 'block', 'ptrs', 'tmp'] as const;

/** One block holds every tile: transform tiles [16·item, 16·item + 16) into it (the thread's scratch tile at tmp). */
const transformJob = defineJob('winograd.wgradTransform', WGRAD, (h, a, item, thread) => {
  const s = { ...blockScratch(a.block, a, a.blockTiles), tmp: a.tmp + thread * TRANSFORM_TMP_BYTES };
  const t0 = item * TRANSFORM_TILES;
  transformBlock(h, a, tiling(a), a.xp, a.dy, t0, Math.min(a.tiles, t0 + TRANSFORM_TILES), s, 0);
});

/** One block holds every tile: S for input channels [32·item, 32·item + 32) (the thread's chunk of S at acc), then dW. */
const chunkJob = defineJob('winograd.wgradChunk', [...WGRAD, 'acc', 'sPlane'], (h, a, item, thread) => {
  const s = blockScratch(a.block, a, a.blockTiles);
  const acc = a.acc + thread * PLANES * a.sPlane;
  const tmp = a.tmp + thread * TRANSFORM_TMP_BYTES;
  const c0 = item * S_CHUNK;
  const channels = Math.min(S_CHUNK, a.c - c0);
  accumulateS(h, a, s, a.ptrs, a.tiles, acc, a.sPlane, c0, channels, true);
  h.kernels.w4dw(acc, a.sPlane, a.out + c0 * a.n * 4, a.c * a.n * 4, (channels * a.n) / 4, tmp);
});

/**
 * Several blocks: stripe `item` takes blocks item, item + stripes, … of the pass in the calling thread's block
 * scratch (and its pointers to V rows) and accumulates S_item (its own, per stripe: the sums do not depend on
 * which thread ran a stripe); stripes ≥ `begun` start from zero at their first block.
 */
const stripeJob = defineJob(
  'winograd.wgradStripe',
  [...WGRAD, 'acc', 'sPlane', 'stripes', 'begun', 'stride'],
  (h, a, item, thread) => {
    const s = blockScratch(a.block + thread * a.stride, a, a.blockTiles);
    const ptrs = a.ptrs + thread * a.blockTiles * 4;
    const i32 = h.views().i32;
    for (let r = 0; r < a.blockTiles; r++) i32[(ptrs >>> 2) + r] = s.v + r * ldvOf(a);
    const acc = a.acc + item * PLANES * a.sPlane;
    const t = tiling(a);
    for (let b = item; b * a.blockTiles < a.tiles; b += a.stripes) {
      const t0 = b * a.blockTiles;
      const t1 = Math.min(a.tiles, t0 + a.blockTiles);
      transformBlock(h, a, t, a.xp, a.dy, t0, t1, s);
      accumulateS(h, a, s, ptrs, t1 - t0, acc, a.sPlane, 0, a.c, b === item && item >= a.begun);
    }
  },
);

/** Several blocks: the stripes' S summed (in stripe order) for input channels [32·item, 32·item + 32), then dW. */
const reduceJob = defineJob(
  'winograd.wgradReduce',
  ['c', 'n', 'acc', 'sPlane', 'used', 'out', 'tmp', 'ones', 'zeros'],
  (h, a, item, thread) => {
    const c0 = item * S_CHUNK;
    const channels = Math.min(S_CHUNK, a.c - c0);
    for (let xi = 0; xi < PLANES; xi++) {
      const rows = a.acc + xi * a.sPlane + c0 * a.n * 4;
      for (let p = 1; p < a.used; p++) addRows(h, rows, rows + p * PLANES * a.sPlane, a.n * 4, channels, a.n, a.ones, a.zeros);
    }
    h.kernels.w4dw(
      a.acc + c0 * a.n * 4,
      a.sPlane,
      a.out + c0 * a.n * 4,
      a.c * a.n * 4,
      (channels * a.n) / 4,
      a.tmp + thread * TRANSFORM_TMP_BYTES,
    );
  },
);

/**
 * Weight gradient of a Winograd-shaped convolution: S_ξ = Σ_tiles V_ξᵀ Z_ξ (input windows and output-gradient
 * tiles, both transformed), then dW = Gᵀ S G per channel pair. When one block holds every tile, S is built
 * S_CHUNK input channels at a time, each chunk transformed into dW while it is still in the cache; otherwise
 * each of STRIPES stripes of blocks accumulates its own S, summed at the end in stripe order (the same sums on any
 * number of threads).
 */
export function winogradBackpropFilter(h: WasmHeap, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const k = correlationOf(g, false);
  const t = tiling(k);
  const { ci, co } = { ci: k.c, co: k.n };
  const { dyW, dyH, padded } = gradientExtent(k, t);
  const padBytes = paddedImageBytes(k, t);
  const dyPadBytes = padded ? dyW * dyH * co * 4 : 0;
  const group = imagesPerPass(k.batch, padBytes + dyPadBytes);
  const tilesPerBlock = blockTiles(k, 'wgrad', group * t.perImage);
  const single = group >= k.batch && tilesPerBlock >= k.batch * t.perImage;
  const width = h.width;
  const stripes = single ? 1 : STRIPES;
  const blockBytes = blockScratchBytes(k, tilesPerBlock);
  const sPlane = filterPlane(single ? Math.min(S_CHUNK, ci) : ci, co);
  const sizes = [
    (single ? width : stripes) * PLANES * sPlane,
    group * padBytes + 16,
    group * dyPadBytes + 16,
    (single ? 1 : width) * blockBytes,
    (single ? 1 : width) * tilesPerBlock * 4,
    width * TRANSFORM_TMP_BYTES,
    8 * co,
  ];
  const scratch = h.malloc(regions(0, sizes).bytes + 64);
  const out = h.backend.makeOutput([3, 3, ci, co], 'float32');
  try {
    const [acc, xp, dyPad, block, ptrs, tmp, ones] = regions(scratch, sizes).at as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const zeros = ones + 4 * co;
    h.views()
      .f32.fill(1, ones >>> 2, (ones >>> 2) + co)
      .fill(0, zeros >>> 2, (zeros >>> 2) + co);
    const kf = { batch: k.batch, h: k.h, w: k.w, c: ci, oh: k.oh, ow: k.ow, n: co, pt: k.pt, pl: k.pl };
    const xPtr = h.ptr(x);
    const dyPtr = h.ptr(dy);
    const outPtr = h.ptr(out);
    let begun = 0;
    for (let n0 = 0; n0 < k.batch; n0 += group) {
      const count = Math.min(group, k.batch - n0);
      h.parallel(padJob, { ...kf, src: xPtr, n0, xp }, count);
      if (padded) h.parallel(padGradientJob, { ...kf, src: dyPtr, n0, dst: dyPad }, count);
      const tiles = count * t.perImage;
      const args = {
        ...kf,
        xp,
        dy: padded ? dyPad : dyPtr + n0 * k.oh * k.ow * co * 4,
        out: outPtr,
        blockTiles: tilesPerBlock,
        tiles,
        block,
        ptrs,
        tmp,
      };
      if (single) {
        const s = blockScratch(block, k, tilesPerBlock);
        const i32 = h.views().i32;
        for (let r = 0; r < tilesPerBlock; r++) i32[(ptrs >>> 2) + r] = s.v + r * ldvOf(k);
        h.parallel(transformJob, args, Math.ceil(tiles / TRANSFORM_TILES));
        h.parallel(chunkJob, { ...args, acc, sPlane }, Math.ceil(ci / S_CHUNK));
      } else {
        h.parallel(stripeJob, { ...args, acc, sPlane, stripes, begun, stride: blockBytes }, stripes);
        begun = Math.max(begun, Math.min(stripes, Math.ceil(tiles / tilesPerBlock)));
      }
    }
    if (!single)
      h.parallel(reduceJob, { c: ci, n: co, acc, sPlane, used: begun, out: outPtr, tmp, ones, zeros }, Math.ceil(ci / S_CHUNK));
  } finally {
    h.free(scratch);
  }
  return out;
}

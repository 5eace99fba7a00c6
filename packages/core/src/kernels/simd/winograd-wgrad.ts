/**
 * The weight gradient of 3×3 stride-1 convolutions with Winograd's F(4×4, 3×3): per block of tiles, the input
 * windows V = Bᵀ d B and the output-gradient tiles Z = A dY Aᵀ are transformed, S_ξ += V_ξᵀ Z_ξ (the engine's
 * wgrad kernel), and at the end dW = Gᵀ S G (`w4dw`). Tiling, passes and blocks: winograd-tiles.ts.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { ConvGeometry } from '../conv-geometry.js';
import type { WasmHeap } from './wasm-heap.js';
import { PLANES, TILE } from './winograd-transforms.js';
import {
  blockScratch,
  blockScratchBytes,
  blockTiles,
  correlationOf,
  filterPlane,
  forEachRun,
  imagesPerPass,
  ldmOf,
  ldvOf,
  padInput,
  regions,
  tiling,
  transformWindows,
  type BlockScratch,
  type Correlation,
  type Tiling,
} from './winograd-tiles.js';

/** Input channels per chunk of S when one block holds every tile of the weight gradient. */
const S_CHUNK = 32;

/** Output-gradient tiles: dy padded to whole tiles (zeros) when a side is not a multiple of 4, else in place. */
function paddedGradientBytes(k: Correlation, t: Tiling): number {
  return k.oh % TILE === 0 && k.ow % TILE === 0 ? 0 : t.rows * TILE * t.cols * TILE * k.n * 4;
}

/**
 * Weight gradient of a Winograd-shaped convolution: S_ξ = Σ_tiles V_ξᵀ Z_ξ (input windows and output-gradient
 * tiles, both transformed), then dW = Gᵀ S G per channel pair. When one block holds every tile, S is built
 * S_CHUNK input channels at a time, each chunk transformed into dW while it is still in the cache.
 */
export function winogradBackpropFilter(h: WasmHeap, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const k = correlationOf(g, false);
  const t = tiling(k);
  const ci = k.c;
  const co = k.n;
  const padBytes = t.hp * t.wp * ci * 4;
  const dyPadBytes = paddedGradientBytes(k, t);
  const group = imagesPerPass(k.batch, padBytes + dyPadBytes);
  const tilesPerBlock = blockTiles(k, 'wgrad', group * t.perImage);
  const single = group >= k.batch && tilesPerBlock >= k.batch * t.perImage;
  const sChannels = single ? Math.min(S_CHUNK, ci) : ci;
  const sPlane = filterPlane(sChannels, co);
  const sizes = [PLANES * sPlane, group * padBytes + 16, group * dyPadBytes + 16, blockScratchBytes(k, tilesPerBlock), tilesPerBlock * 4];
  const scratch = h.malloc(regions(0, sizes).bytes + 64);
  const out = h.backend.makeOutput([3, 3, ci, co], 'float32');
  try {
    const [acc, xp, dyPad, block, ptrs] = regions(scratch, sizes).at as [number, number, number, number, number];
    const s = blockScratch(block, k, tilesPerBlock);
    const ldv = ldvOf(k);
    const i32 = h.views().i32;
    for (let r = 0; r < tilesPerBlock; r++) i32[(ptrs >> 2) + r] = s.v + r * ldv;
    const xPtr = h.ptr(x);
    const dyPtr = h.ptr(dy);
    const outPtr = h.ptr(out);
    const dyW = dyPadBytes ? t.cols * TILE : k.ow;
    const dyH = dyPadBytes ? t.rows * TILE : k.oh;
    let first = true;
    for (let n0 = 0; n0 < k.batch; n0 += group) {
      const count = Math.min(group, k.batch - n0);
      const f32 = h.views().f32;
      padInput(f32, xPtr, k, t, n0, count, xp);
      let dySrc = dyPtr + n0 * k.oh * k.ow * co * 4;
      if (dyPadBytes) {
        // the output gradient padded to whole tiles: the pixels outside the output are zeros
        const d = dyPad >> 2;
        f32.fill(0, d, d + (count * dyPadBytes) / 4);
        for (let n = 0; n < count; n++) {
          for (let y = 0; y < k.oh; y++) {
            const from = (dySrc >> 2) + (n * k.oh + y) * k.ow * co;
            f32.copyWithin(d + (n * dyH + y) * dyW * co, from, from + k.ow * co);
          }
        }
        dySrc = dyPad;
      }
      const tiles = count * t.perImage;
      for (let t0 = 0; t0 < tiles; t0 += tilesPerBlock) {
        const t1 = Math.min(tiles, t0 + tilesPerBlock);
        transformBlock(h, k, t, xp, dySrc, dyW, dyH, t0, t1, s);
        if (single) {
          for (let c0 = 0; c0 < ci; c0 += sChannels) {
            const channels = Math.min(sChannels, ci - c0);
            accumulateS(h, k, s, ptrs, t1 - t0, acc, sPlane, c0, channels, true);
            h.kernels.w4dw(acc, sPlane, outPtr + c0 * co * 4, ci * co * 4, (channels * co) / 4, s.tmp);
          }
        } else {
          accumulateS(h, k, s, ptrs, t1 - t0, acc, sPlane, 0, ci, first);
        }
        first = false;
      }
    }
    if (!single) h.kernels.w4dw(acc, sPlane, outPtr, ci * co * 4, (ci * co) / 4, s.tmp);
  } finally {
    h.free(scratch);
  }
  return out;
}

/** Transforms of tiles [t0, t1) of a pass: the input windows (padded x at xp) into V, the dy tiles (rows dyW pixels wide) into Z. */
function transformBlock(h: WasmHeap, k: Correlation, t: Tiling, xp: number, dy: number, dyW: number, dyH: number, t0: number, t1: number, s: BlockScratch): void {
  transformWindows(h, k, t, xp, t0, t1, s);
  const pix = k.n * 4;
  const ldz = ldmOf(k);
  forEachRun(t, t0, t1, (image, ty, tx, length, at) => {
    const src = dy + ((image * dyH + TILE * ty) * dyW + TILE * tx) * pix;
    h.kernels.w4dy(src, dyW * pix, pix, k.n / 4, s.m + at * ldz, s.xiM, ldz, length, s.tmp);
  });
}

/**
 * S_ξ[c0 .. c0 + channels) (+)= V_ξᵀ Z_ξ over the block's `count` tiles (V rows through the pointers at `ptrs`);
 * S at `acc`: 36 planes `sPlane` bytes apart of [channels][Co]; `fresh`: overwrite instead of accumulating.
 */
function accumulateS(h: WasmHeap, k: Correlation, s: BlockScratch, ptrs: number, count: number, acc: number, sPlane: number, c0: number, channels: number, fresh: boolean): void {
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

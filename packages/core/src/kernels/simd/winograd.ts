/**
 * 3×3 stride-1 convolutions with Winograd's F(2×2, 3×3): every 2×2 output tile costs 16 multiplications per
 * channel pair instead of 36, so the forward pass, the input gradient and the weight gradient each run 2.25×
 * fewer multiply-adds than the direct convolution (the bulk of ResNet's layers). Per call:
 *
 * 1. the input is copied into a zero-padded buffer covering every tile's 4×4 window;
 * 2. `wtin` transforms the windows into 16 planes V_ξ [tiles][C] (rows padded by 4 floats: rows 2ⁿ bytes apart
 *    share L1 sets);
 * 3. forward / input gradient: one GEMM per plane, M_ξ = V_ξ · U_ξ with the transformed filter U = G g Gᵀ (igemm
 *    with one tap), then `wtout` turns the planes back into 2×2 tiles;
 *    weight gradient: the output gradient is transformed too (`wtdy`, Z = A dY Aᵀ), S_ξ = V_ξᵀ · Z_ξ (wgrad), and
 *    dW = Gᵀ S G on the host.
 *
 * Rounding differs from the direct convolution by a few ulps (the transforms add and subtract up to 4 values);
 * the kernels are checked against tfjs' reference kernels to 1e-4 relative error.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { ConvGeometry } from '../conv-geometry.js';
import { cachedFilters } from '../filter-cache.js';
import type { WasmHeap } from './wasm-heap.js';

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
 * Whether a convolution runs as Winograd F(2×2, 3×3): 3×3, stride 1, no dilation, channel counts multiples of 8
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
 * The transformed filter U_ξ = G g Gᵀ of a HWIO 3×3 filter [3·3·Ci·Co], packed for the engine's igemm (16 planes
 * of panels [N/8][K][8]) and cached while the filter lives. Forward: K = Ci, N = Co. `transposed` (the input
 * gradient: the filter flipped, channels swapped): K = Co, N = Ci; flipping the taps permutes the planes,
 * U'[a][b] = U[p(a)][p(b)] with p = (3 1 2 0).
 */
function transformedFilter(e: WasmHeap, filter: TensorInfo, ci: number, co: number, transposed: boolean): TensorInfo {
  const key = `simd-winograd${transposed ? '-t' : ''} ${ci}x${co}`;
  const [u] = cachedFilters(e.backend, filter, key, () => {
    const out = e.backend.makeOutput([16 * ci * co], 'float32');
    const src = e.ptr(filter);
    const dst = e.ptr(out);
    const tapBytes = ci * co * 4;
    const planeBytes = ci * co * 4;
    for (let i = 0; i < ci; i++) {
      const g = src + i * co * 4;
      if (transposed) e.kernels.wtfiltT(g, tapBytes, co / 4, dst + (i >> 3) * co * 32 + (i & 7) * 4, planeBytes);
      else e.kernels.wtfilt(g, tapBytes, co / 8, dst + i * 32, planeBytes, ci * 32);
    }
    return [out];
  });
  return u!;
}

/** Tiles of a convolution's output: 2×2 pixels each, `rows` × `cols` per image. */
interface Tiling {
  rows: number;
  cols: number;
  count: number;
}

function tiling(batch: number, outH: number, outW: number): Tiling {
  const rows = Math.ceil(outH / 2);
  const cols = Math.ceil(outW / 2);
  return { rows, cols, count: batch * rows * cols };
}

/** A stride-1 3×3 correlation of src [batch, h, w, c] giving [batch, oh, ow, n], the window of (y, x) at (y − pt, x − pl). */
interface Correlation {
  batch: number;
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  n: number;
  pt: number;
  pl: number;
}

/**
 * Copies src [batch, h, w, c] into `xp` [batch, 2·rows + 2, 2·cols + 2, c] at (pt, pl), zeros around, and writes
 * every tile's transformed window to V (planes xiStride bytes apart, rows `ldv` bytes apart).
 */
function transformInput(e: WasmHeap, srcPtr: number, k: Correlation, t: Tiling, xp: number, v: number, ldv: number, xiStride: number): void {
  const hp = 2 * t.rows + 2;
  const wp = 2 * t.cols + 2;
  const { f32 } = e.views();
  const c = k.c;
  // every padded float written once: zeros left and right of the copied pixels, whole rows of zeros above and below
  const x0 = Math.max(0, -k.pl);
  const x1 = Math.min(k.w, wp - k.pl);
  const left = (x0 + k.pl) * c;
  const right = (x1 + k.pl) * c;
  for (let n = 0; n < k.batch; n++) {
    for (let py = 0; py < hp; py++) {
      const row = (xp >> 2) + (n * hp + py) * wp * c;
      const y = py - k.pt;
      if (y < 0 || y >= k.h || x1 <= x0) {
        f32.fill(0, row, row + wp * c);
        continue;
      }
      const src = (srcPtr >> 2) + ((n * k.h + y) * k.w + x0) * c;
      f32.fill(0, row, row + left);
      f32.copyWithin(row + left, src, src + (x1 - x0) * c);
      f32.fill(0, row + right, row + wp * c);
    }
  }
  const rowBytes = wp * c * 4;
  for (let n = 0; n < k.batch; n++) {
    for (let ty = 0; ty < t.rows; ty++) {
      const tile = (n * t.rows + ty) * t.cols;
      e.kernels.wtin(xp + (n * hp + 2 * ty) * rowBytes, rowBytes, c * 4, c / 4, v + tile * ldv, xiStride, ldv, t.cols);
    }
  }
}

/** Bytes to allocate for scratch regions of `sizes` bytes, each 16-byte aligned. */
const scratchBytes = (sizes: number[]): number => sizes.reduce((a, b) => a + Math.ceil(b / 16) * 16, 16);

/** Start addresses of consecutive 16-byte-aligned regions of `sizes` bytes in scratch memory at `base`. */
function regions(base: number, sizes: number[]): number[] {
  let at = (base + 15) & ~15;
  return sizes.map((size) => {
    const start = at;
    at += Math.ceil(size / 16) * 16;
    return start;
  });
}

/** Bytes of a V buffer row (C floats + 4: rows a power of two apart would share cache sets). */
const vRowBytes = (c: number): number => (c + 4) * 4;

/** The padded-input bytes of {@link transformInput}. */
const paddedBytes = (k: Correlation, t: Tiling): number => k.batch * (2 * t.rows + 2) * (2 * t.cols + 2) * k.c * 4;

/**
 * Scratch memory one pass may take (the transformed planes are ~4× the input): larger batches run in groups of
 * images (the wasm heap is 4 GB at most, and shared with the activations).
 */
let passBytes = 128 * 1024 * 1024;

/** Sets the scratch budget of one pass (default 128 MB; tests use a tiny one to run one image per pass). @internal */
export function setWinogradPassBytes(bytes: number): void {
  passBytes = bytes;
}

/** Images per pass of a correlation whose scratch costs `perImage` bytes per image. */
const imagesPerPass = (batch: number, perImage: number): number => Math.max(1, Math.min(batch, Math.floor(passBytes / perImage)));

/** Scratch bytes per image of a pass: the 16 planes of V (C + 4 floats a row) and of the products (N floats). */
function planeBytesPerImage(k: Correlation): number {
  const t = tiling(1, k.oh, k.ow);
  return 16 * t.count * (vRowBytes(k.c) + k.n * 4) + (2 * t.rows + 2) * (2 * t.cols + 2) * k.c * 4;
}

/**
 * out [batch, oh, ow, n] = the correlation of src with the transformed, packed filter at `uPtr`, + bias (n floats
 * at `biasPtr`, or none), then activation `act` (0 linear, 1 relu, 2 relu6); in groups of images.
 */
function correlate(e: WasmHeap, srcPtr: number, uPtr: number, outPtr: number, k: Correlation, biasPtr: number | null, act: 0 | 1 | 2): void {
  const group = imagesPerPass(k.batch, planeBytesPerImage(k));
  for (let n0 = 0; n0 < k.batch; n0 += group) {
    const part = { ...k, batch: Math.min(group, k.batch - n0) };
    correlatePass(e, srcPtr + n0 * k.h * k.w * k.c * 4, uPtr, outPtr + n0 * k.oh * k.ow * k.n * 4, part, biasPtr, act);
  }
}

/** One pass of {@link correlate} over all of `k.batch`. */
function correlatePass(e: WasmHeap, srcPtr: number, uPtr: number, outPtr: number, k: Correlation, biasPtr: number | null, act: 0 | 1 | 2): void {
  const t = tiling(k.batch, k.oh, k.ow);
  const t4 = Math.ceil(t.count / 4) * 4;
  const ldv = vRowBytes(k.c);
  const xiV = t4 * ldv;
  const ldm = k.n * 4;
  const xiM = t4 * ldm;
  const even = k.oh % 2 === 0 && k.ow % 2 === 0;
  const xpBytes = paddedBytes(k, t);
  const vBytes = 16 * xiV;
  const mBytes = 16 * xiM;
  const indBytes = t4 * 4;
  const zeroBytes = Math.max(64, k.n * 4); // zero bias, and the GEMMs' zero initial values
  const bufBytes = even ? 0 : k.batch * 2 * t.rows * 2 * t.cols * k.n * 4;
  const sizes = [vBytes, mBytes, xpBytes, indBytes, zeroBytes, bufBytes];
  const scratch = e.malloc(scratchBytes(sizes));
  try {
    const [v, m, xp, ind, zero, buf] = regions(scratch, sizes) as [number, number, number, number, number, number];
    transformInput(e, srcPtr, k, t, xp, v, ldv, xiV);
    const { f32, i32 } = e.views(); // no allocation below: the views stay valid
    f32.fill(0, zero >> 2, (zero + zeroBytes) >> 2);
    const panelBytes = k.c * 32;
    for (let xi = 0; xi < 16; xi++) {
      const vx = v + xi * xiV;
      for (let r = 0; r < t4; r++) i32[(ind >> 2) + r] = vx + r * ldv;
      const u = uPtr + xi * k.c * k.n * 4;
      for (let j = 0; j < k.n; j += 8) {
        e.kernels.igemm(ind, 1, k.c, u + (j / 8) * panelBytes, m + xi * xiM + j * 4, ldm, zero, 0, t4 / 4);
      }
    }
    const ow2 = 2 * t.cols;
    const oh2 = 2 * t.rows;
    const dst = even ? outPtr : buf;
    const dstW = even ? k.ow : ow2;
    const dstH = even ? k.oh : oh2;
    const pix = k.n * 4;
    for (let n = 0; n < k.batch; n++) {
      for (let ty = 0; ty < t.rows; ty++) {
        const tile = (n * t.rows + ty) * t.cols;
        const row0 = dst + ((n * dstH + 2 * ty) * dstW) * pix;
        e.kernels.wtout(m + tile * ldm, xiM, ldm, k.n / 4, row0, row0 + dstW * pix, pix, t.cols, biasPtr ?? zero, act);
      }
    }
    if (!even) {
      for (let n = 0; n < k.batch; n++) {
        for (let y = 0; y < k.oh; y++) {
          const src = (buf >> 2) + (n * oh2 + y) * ow2 * k.n;
          f32.copyWithin((outPtr >> 2) + (n * k.oh + y) * k.ow * k.n, src, src + k.ow * k.n);
        }
      }
    }
  } finally {
    e.free(scratch);
  }
}

/**
 * The convolution as a correlation: forward, x with the filter; input gradient (`transposed`), dy with the
 * flipped filter, channels swapped, padded by 2 − pad.
 */
function correlationOf(g: ConvGeometry, transposed: boolean): Correlation {
  const fwd = { batch: g.batch, h: g.inHeight, w: g.inWidth, c: g.inChannels, oh: g.outHeight, ow: g.outWidth, n: g.outChannels };
  if (!transposed) return { ...fwd, pt: g.padTop, pl: g.padLeft };
  return { batch: g.batch, h: fwd.oh, w: fwd.ow, c: fwd.n, oh: fwd.h, ow: fwd.w, n: fwd.c, pt: 2 - g.padTop, pl: 2 - g.padLeft };
}

function winogradCorrelation(
  e: WasmHeap,
  src: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
  transposed: boolean,
  bias: TensorInfo | null = null,
  act: 0 | 1 | 2 = 0,
): TensorInfo {
  const k = correlationOf(g, transposed);
  const u = transformedFilter(e, filter, g.inChannels, g.outChannels, transposed);
  const out = e.backend.makeOutput([k.batch, k.oh, k.ow, k.n], 'float32');
  correlate(e, e.ptr(src), e.ptr(u), e.ptr(out), k, bias ? e.ptr(bias) : null, act);
  return out;
}

/**
 * Forward convolution with Winograd F(2×2, 3×3), optionally + bias [Co] and relu (act 1) / relu6 (act 2); see
 * {@link isWinogradConvolution}.
 */
export function winogradConv2d(e: WasmHeap, x: TensorInfo, filter: TensorInfo, g: ConvGeometry, bias: TensorInfo | null = null, act: 0 | 1 | 2 = 0): TensorInfo {
  return winogradCorrelation(e, x, filter, g, false, bias, act);
}

/** Input gradient of a Winograd-shaped convolution (the correlation of dy with the flipped, transposed filter). */
export function winogradBackpropInput(e: WasmHeap, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  return winogradCorrelation(e, dy, filter, g, true);
}

/**
 * Weight gradient of a Winograd-shaped convolution: S_ξ = Σ_tiles V_ξᵀ Z_ξ (input windows and output-gradient
 * tiles, both transformed), then dW = Gᵀ S G per channel pair.
 */
export function winogradBackpropFilter(e: WasmHeap, x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
  const ci = g.inChannels;
  const co = g.outChannels;
  const k = correlationOf(g, false);
  const accBytes = 16 * ci * co * 4;
  const acc = e.malloc(accBytes + 16);
  const out = e.backend.makeOutput([3, 3, ci, co], 'float32');
  try {
    const s = (acc + 15) & ~15;
    e.views().f32.fill(0, s >> 2, (s + accBytes) >> 2);
    const group = imagesPerPass(g.batch, planeBytesPerImage(k));
    const xPtr = e.ptr(x);
    const dyPtr = e.ptr(dy);
    for (let n0 = 0; n0 < g.batch; n0 += group) {
      const part = { ...k, batch: Math.min(group, g.batch - n0) };
      accumulateWeightGradient(e, xPtr + n0 * k.h * k.w * ci * 4, dyPtr + n0 * k.oh * k.ow * co * 4, part, s);
    }
    // dW = Gᵀ S G
    e.kernels.wtdw(s, e.ptr(out), ci * co * 4, (ci * co) / 4);
  } finally {
    e.free(acc);
  }
  return out;
}

/** S_ξ += V_ξᵀ Z_ξ over the images of `k` (x at xPtr, dy at dyPtr); S at `acc` [16][Ci][Co]. */
function accumulateWeightGradient(e: WasmHeap, xPtr: number, dyPtr: number, k: Correlation, acc: number): void {
  const ci = k.c;
  const co = k.n;
  const t = tiling(k.batch, k.oh, k.ow);
  const ldv = vRowBytes(ci);
  const xiV = t.count * ldv;
  const ldz = co * 4;
  const xiZ = t.count * ldz;
  const even = k.oh % 2 === 0 && k.ow % 2 === 0;
  const oh2 = 2 * t.rows;
  const ow2 = 2 * t.cols;
  const xpBytes = paddedBytes(k, t);
  const vBytes = 16 * xiV;
  const zBytes = 16 * xiZ;
  const ptrBytes = t.count * 4;
  const dyBytes = even ? 0 : k.batch * oh2 * ow2 * co * 4;
  const sizes = [vBytes, zBytes, xpBytes, ptrBytes, dyBytes];
  const scratch = e.malloc(scratchBytes(sizes));
  try {
    const [v, z, xp, ptrs, dyPad] = regions(scratch, sizes) as [number, number, number, number, number];
    transformInput(e, xPtr, k, t, xp, v, ldv, xiV);
    const { f32, i32 } = e.views(); // no allocation below: the views stay valid
    for (let r = 0; r < t.count; r++) i32[(ptrs >> 2) + r] = v + r * ldv;
    // the output gradient, padded to whole tiles when a side is odd
    let src = dyPtr;
    if (!even) {
      f32.fill(0, dyPad >> 2, (dyPad + dyBytes) >> 2);
      for (let n = 0; n < k.batch; n++) {
        for (let y = 0; y < k.oh; y++) {
          const s = (src >> 2) + (n * k.oh + y) * k.ow * co;
          f32.copyWithin((dyPad >> 2) + (n * oh2 + y) * ow2 * co, s, s + k.ow * co);
        }
      }
      src = dyPad;
    }
    const dyW = even ? k.ow : ow2;
    const dyH = even ? k.oh : oh2;
    const pix = co * 4;
    for (let n = 0; n < k.batch; n++) {
      for (let ty = 0; ty < t.rows; ty++) {
        const tile = (n * t.rows + ty) * t.cols;
        const row0 = src + (n * dyH + 2 * ty) * dyW * pix;
        e.kernels.wtdy(row0, row0 + dyW * pix, pix, co / 4, z + tile * ldz, xiZ, ldz, t.cols);
      }
    }
    // S_ξ += V_ξᵀ Z_ξ over blocks of 64 tiles (a block's Z rows stay in L1 across the input-channel tiles)
    const block = 64;
    const chunk = 64;
    for (let m0 = 0; m0 < t.count; m0 += block) {
      const count = Math.min(block, t.count - m0);
      for (let xi = 0; xi < 16; xi++) {
        for (let q0 = 0; q0 < co; q0 += chunk) {
          const tiles = Math.min(chunk, co - q0) / 8;
          const d = z + xi * xiZ + m0 * ldz + q0 * 4;
          for (let c = 0; c < ci; c += 4) {
            e.kernels.wgrad(ptrs + m0 * 4, 4, count, xi * xiV + c * 4, d, ldz, acc + ((xi * ci + c) * co + q0) * 4, ldz, tiles);
          }
        }
      }
    }
  } finally {
    e.free(scratch);
  }
}

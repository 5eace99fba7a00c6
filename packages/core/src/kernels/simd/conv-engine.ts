/**
 * Convolution and its weight gradient on the tfjs wasm backend's heap, with fastts' own SIMD micro-kernels
 * (see conv-kernels.ts) instead of XNNPACK: tensors are read and written in place (the kernels import the
 * backend's WebAssembly memory), weights are packed once per filter tensor (cached while it lives), and the
 * tile loops run in JS (one wasm call per 4×8 tile). 3×3 stride-1 convolutions (most of a ResNet) take the
 * Winograd F(2×2, 3×3) path instead (winograd.ts: 2.25× fewer multiply-adds).
 */
import type { DataId, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import type { ConvGeometry } from '../conv-geometry.js';
import { cachedHostFilters } from '../filter-cache.js';
import { instantiateConvKernels, type ConvKernels } from './conv-kernels.js';
import { isWinogradConvolution, winogradBackpropFilter, winogradBackpropInput, winogradConv2d } from './winograd.js';

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
export interface WasmBackendLike extends KernelBackend {
  wasm: {
    HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    asm?: { memory?: { buffer: ArrayBuffer } };
    wasmMemory?: { buffer: ArrayBuffer | SharedArrayBuffer };
    tfjs?: { getThreadsCount?(): number };
  };
  dataIdMap: { get(dataId: DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

/** True when `backend` looks like tfjs-backend-wasm's (heap, malloc, tensor offsets). */
export function isWasmBackend(backend: unknown): backend is WasmBackendLike {
  const b = backend as Partial<WasmBackendLike> | null;
  return !!b && typeof b.wasm?._malloc === 'function' && typeof b.makeOutput === 'function' && !!b.dataIdMap;
}

/** XNNPACK threads of a wasm backend (1 when unknown). */
export function wasmBackendThreads(backend: WasmBackendLike): number {
  try {
    return backend.wasm.tfjs?.getThreadsCount?.() ?? 1;
  } catch {
    return 1;
  }
}

const engines = new WeakMap<object, SimdConvEngine>();

/** The engine of a wasm backend instance (kernels instantiated over its memory on first use). */
export function simdConvEngine(backend: WasmBackendLike): SimdConvEngine {
  let e = engines.get(backend);
  if (!e) {
    e = new SimdConvEngine(backend);
    engines.set(backend, e);
  }
  return e;
}

/**
 * Packs the taps `taps` of a HWIO filter [kh·kw·Ci·Co] for the input gradient: panels [Ci8/8][taps][Co][8], i.e.
 * the filter with input and output channels swapped (input channels zero-padded to 8).
 */
export function packFilterTransposed(w: Float32Array, taps: readonly number[], ci: number, co: number): Float32Array {
  const ci8 = Math.ceil(ci / 8) * 8;
  const out = new Float32Array((ci8 / 8) * taps.length * co * 8);
  let o = 0;
  for (let q = 0; q < ci8; q += 8) {
    const width = Math.min(8, ci - q);
    for (const t of taps) {
      for (let c = 0; c < co; c++) {
        const src = (t * ci + q) * co + c;
        for (let lane = 0; lane < width; lane++) out[o + lane] = w[src + lane * co]!;
        o += 8;
      }
    }
  }
  return out;
}

/**
 * Packs a HWIO filter [taps·Ci·Co] into panels [Co8/8][taps][Ci][8] (output channels zero-padded to 8). Reads
 * the filter row by row (contiguous) and scatters each row's 8-float runs to the panels.
 */
export function packFilter(w: Float32Array, taps: number, ci: number, co: number): Float32Array {
  const co8 = Math.ceil(co / 8) * 8;
  const rows = taps * ci;
  const out = new Float32Array((co8 / 8) * rows * 8);
  const panel = rows * 8;
  for (let r = 0; r < rows; r++) {
    const src = r * co;
    let dst = r * 8;
    let j = 0;
    for (; j + 8 <= co; j += 8, dst += panel) {
      const s0 = src + j;
      out[dst] = w[s0]!;
      out[dst + 1] = w[s0 + 1]!;
      out[dst + 2] = w[s0 + 2]!;
      out[dst + 3] = w[s0 + 3]!;
      out[dst + 4] = w[s0 + 4]!;
      out[dst + 5] = w[s0 + 5]!;
      out[dst + 6] = w[s0 + 6]!;
      out[dst + 7] = w[s0 + 7]!;
    }
    for (let q = 0; j + q < co; q++) out[dst + q] = w[src + j + q]!;
  }
  return out;
}

/** Whether a convolution's taps along a filter row can run as one long row (narrow input, no horizontal dilation). */
function isMergeable(g: ConvGeometry): boolean {
  return g.inChannels < 8 && g.filterWidth > 1 && g.dilationWidth === 1;
}

/** Width of the horizontally padded input in which every output pixel's window lies (window of ox at ox·sw). */
function paddedWidth(g: ConvGeometry): number {
  return Math.max(g.inWidth + g.padLeft, (g.outWidth - 1) * g.strideWidth + g.filterWidth);
}

export class SimdConvEngine {
  readonly kernels: ConvKernels;
  private readonly memory: { buffer: ArrayBuffer | SharedArrayBuffer };
  private f32view: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private i32view: Int32Array<ArrayBufferLike> = new Int32Array(0);

  constructor(readonly backend: WasmBackendLike) {
    const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
    if (!memory) throw new Error('the wasm backend exposes no WebAssembly memory');
    this.memory = memory;
    this.kernels = instantiateConvKernels(memory);
  }

  /** Float and int views of the heap (renewed when the memory grows). @internal */
  views(): { f32: Float32Array; i32: Int32Array } {
    if (this.f32view.buffer !== this.memory.buffer) {
      this.f32view = new Float32Array(this.memory.buffer);
      this.i32view = new Int32Array(this.memory.buffer);
    }
    return { f32: this.f32view, i32: this.i32view };
  }

  /** Heap byte address of a tensor's data. @internal */
  ptr(t: TensorInfo): number {
    const d = this.backend.dataIdMap.get(t.dataId);
    if (!d) throw new Error('internal: tensor not on this wasm backend');
    return d.memoryOffset;
  }

  /** Heap scratch memory; throws when the heap is exhausted. @internal */
  malloc(bytes: number): number {
    const p = this.backend.wasm._malloc(bytes) >>> 0;
    if (p === 0) throw new Error(`the wasm heap is exhausted (asked for ${bytes} bytes): lower the batch size`);
    return p;
  }

  /** Frees {@link malloc}'s memory. @internal */
  free(ptr: number): void {
    this.backend.wasm._free(ptr);
  }

  /** Input-row address of output pixel (n, oy, ox) at tap (i, j), or `zero` in the padding. */
  private indirection(
    i32: Int32Array,
    at: number,
    g: ConvGeometry,
    xPtr: number,
    rowBytes: number,
    zero: number,
    layout: 'groups' | 'pixels',
    rows: number,
  ): void {
    const { batch, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = g;
    const taps = kh * kw;
    const M = batch * oh * ow;
    let m = 0;
    for (let n = 0; n < batch; n++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++, m++) {
          // groups: [m/4][tap][m%4]; pixels: [m][tap]
          const base = layout === 'groups' ? at + (m >> 2) * taps * 4 + (m & 3) : at + m * taps;
          const step = layout === 'groups' ? 4 : 1;
          let t = 0;
          for (let i = 0; i < kh; i++) {
            const y = oy * g.strideHeight + i * g.dilationHeight - g.padTop;
            const rowOk = y >= 0 && y < g.inHeight;
            for (let j = 0; j < kw; j++, t++) {
              const x = ox * g.strideWidth + j * g.dilationWidth - g.padLeft;
              i32[base + t * step] = rowOk && x >= 0 && x < g.inWidth ? xPtr + ((n * g.inHeight + y) * g.inWidth + x) * rowBytes : zero;
            }
          }
        }
      }
    }
    if (layout === 'groups') {
      for (; m < rows; m++) {
        const base = at + (m >> 2) * taps * 4 + (m & 3);
        for (let t = 0; t < taps; t++) i32[base + t * 4] = zero;
      }
    }
    void M;
  }

  /**
   * Copies x [N, H, W, Ci] into `xp` [N, H, wp, Ci] at column offset padLeft, zeros around (plus 16 bytes of
   * slack after the end for kernels that read a few floats past a row).
   */
  private padRows(f32: Float32Array, x: TensorInfo, xPtr: number, xp: number, g: ConvGeometry, wp: number): void {
    const { batch: n, inHeight: h, inWidth: w, inChannels: ci } = g;
    const dst0 = xp >> 2;
    f32.fill(0, dst0, dst0 + n * h * wp * ci + 4);
    const src0 = xPtr >> 2;
    for (let r = 0; r < n * h; r++) {
      const src = src0 + r * w * ci;
      f32.copyWithin(dst0 + (r * wp + g.padLeft) * ci, src, src + w * ci);
    }
  }

  /**
   * Indirection for merged taps (see {@link isMergeable}): the plain indirection over the padded input `xp`
   * with one tap per filter row, whose kw·Ci floats start at padded pixel (n, y, ox·sw).
   */
  private mergedIndirection(
    i32: Int32Array,
    at: number,
    g: ConvGeometry,
    xp: number,
    wp: number,
    zero: number,
    layout: 'groups' | 'pixels',
    rows: number,
  ): void {
    const rowsGeometry: ConvGeometry = { ...g, filterWidth: 1, dilationWidth: 1, padLeft: 0, inWidth: wp };
    this.indirection(i32, at, rowsGeometry, xp, g.inChannels * 4, zero, layout, rows);
  }

  /**
   * Forward convolution (NHWC, HWIO filter), optionally + bias [Co] and relu (act 1) / relu6 (act 2);
   * returns the output tensor [N, OH, OW, Co].
   */
  conv2d(x: TensorInfo, filter: TensorInfo, g: ConvGeometry, bias: TensorInfo | null = null, act: 0 | 1 | 2 = 0): TensorInfo {
    if (isWinogradConvolution(g)) return winogradConv2d(this, x, filter, g, bias, act);
    const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = g;
    const taps = kh * kw;
    const co8 = Math.ceil(co / 8) * 8;
    const M = g.batch * g.outHeight * g.outWidth;
    const G = Math.ceil(M / 4);
    const [packed] = cachedHostFilters(this.backend, filter, `simd-igemm ${taps}x${ci}x${co}`, (w) => [
      { shape: [co8 * taps * ci], values: packFilter(w, taps, ci, co) },
    ]);
    const out = this.backend.makeOutput([g.batch, g.outHeight, g.outWidth, co], 'float32');
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
    const scratch = this.malloc(indirBytes + zeroBytes + biasBytes + rowsBytes + xpBytes + 16);
    try {
      const zero = scratch + indirBytes;
      const biasPtr = bias ? zero + zeroBytes : zero;
      const rowsPtr = zero + zeroBytes + biasBytes;
      const { f32, i32 } = this.views();
      f32.fill(0, zero >> 2, (zero + zeroBytes) >> 2);
      if (bias) {
        const src = this.ptr(bias) >> 2;
        f32.copyWithin(biasPtr >> 2, src, src + co);
        f32.fill(0, (biasPtr >> 2) + co, (biasPtr >> 2) + co8);
      }
      const xPtr = this.ptr(x);
      if (merged) {
        const xp = (rowsPtr + rowsBytes + 15) & ~15;
        this.padRows(f32, x, xPtr, xp, g, wp);
        this.mergedIndirection(i32, scratch >> 2, g, xp, wp, zero, 'groups', G * 4);
      } else {
        this.indirection(i32, scratch >> 2, g, xPtr, ci * 4, zero, 'groups', G * 4);
      }
      const wPtr = this.ptr(packed!);
      const outPtr = this.ptr(out);
      const k = this.kernels;
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
      const { f32: f } = this.views();
      if (direct && fullGroups < G) {
        for (let m = fullGroups * 4; m < M; m++) {
          const src = (rowsPtr >> 2) + (m - fullGroups * 4) * co8;
          f.copyWithin((outPtr >> 2) + m * co, src, src + co);
        }
      } else if (!direct) {
        for (let m = 0; m < M; m++) f.copyWithin((outPtr >> 2) + m * co, (rowsPtr >> 2) + m * co8, (rowsPtr >> 2) + m * co8 + co);
      }
    } finally {
      this.backend.wasm._free(scratch);
    }
    return out;
  }

  /**
   * Weight gradient dW[kh, kw, Ci, Co] = Σ_pixels x_tapᵀ · dy (NHWC x and dy).
   *
   * Pixels go in blocks of 64. For each block and tap, the block's input rows are first gathered into a packed
   * buffer whose row stride is not a power of two: read in place, 64 rows `Ci·4` bytes apart (1 KB for 256
   * channels) fall into a handful of L1 cache sets and evict each other between the input-channel tiles.
   */
  conv2dBackpropFilter(x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
    if (isMergeable(g) && g.outChannels % 8 === 0) return this.backpropFilterMerged(x, dy, g);
    if (isWinogradConvolution(g)) return winogradBackpropFilter(this, x, dy, g);
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
    const scratch = this.malloc(indirBytes + zeroBytes + packBytes + ptrBytes + dyBytes + outBytes + 32);
    const out = this.backend.makeOutput([kh, kw, ci, co], 'float32');
    try {
      const zero = scratch + indirBytes;
      const pack = (zero + zeroBytes + 15) & ~15;
      const ptrs = pack + packBytes;
      const dyPad = ptrs + ptrBytes;
      const acc = dyPad + dyBytes;
      const { f32, i32 } = this.views();
      f32.fill(0, zero >> 2, (zero + zeroBytes) >> 2);
      f32.fill(0, acc >> 2, (acc + outBytes) >> 2);
      // the packed rows' padding lanes (ci..ci4) stay zero: only ci floats are copied into each row
      f32.fill(0, pack >> 2, (pack + packBytes) >> 2);
      for (let r = 0; r < block; r++) i32[(ptrs >> 2) + r] = pack + r * rowFloats * 4;
      let xPtr = this.ptr(x);
      if (padX) {
        const src = xPtr >> 2;
        const dst = pack >> 2;
        for (let p = 0; p < inPixels; p++) for (let c = 0; c < ci; c++) f32[dst + p * ci4 + c] = f32[src + p * ci + c]!;
        xPtr = pack;
      }
      let dyPtr = this.ptr(dy);
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
      this.indirection(i32, scratch >> 2, g, xPtr, (gather ? ci : ci4) * 4, zero, 'pixels', M);
      const k = this.kernels;
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
      const { f32: f } = this.views();
      const outPtr = this.ptr(out) >> 2;
      for (let t = 0; t < taps; t++) {
        for (let c = 0; c < ci; c++) {
          const src = (acc >> 2) + (t * ci4 + c) * co8;
          if (co >= 16) f.copyWithin(outPtr + (t * ci + c) * co, src, src + co);
          else for (let q = 0; q < co; q++) f[outPtr + (t * ci + c) * co + q] = f[src + q]!;
        }
      }
    } finally {
      this.backend.wasm._free(scratch);
    }
    return out;
  }

  /**
   * Weight gradient of a narrow-input convolution with merged taps (see {@link isMergeable}): dW viewed as
   * [kh][kw·Ci][Co], each filter row's kw·Ci inputs read as one row of the padded input. The kernel reads rows
   * in fours, so up to 3 floats past kw·Ci (the next pixel's): they only reach gradient rows that are dropped.
   */
  private backpropFilterMerged(x: TensorInfo, dy: TensorInfo, g: ConvGeometry): TensorInfo {
    const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = g;
    const K = kw * ci;
    const K4 = Math.ceil(K / 4) * 4;
    const M = g.batch * g.outHeight * g.outWidth;
    const wp = paddedWidth(g);
    const indirBytes = M * kh * 4;
    const zeroBytes = K4 * 4 + 16;
    const xpBytes = g.batch * g.inHeight * wp * ci * 4 + 32;
    const outBytes = kh * K4 * co * 4;
    const scratch = this.malloc(indirBytes + zeroBytes + xpBytes + outBytes + 32);
    const out = this.backend.makeOutput([kh, kw, ci, co], 'float32');
    try {
      const zero = scratch + indirBytes;
      const xp = (zero + zeroBytes + 15) & ~15;
      const acc = (xp + xpBytes + 15) & ~15;
      const { f32, i32 } = this.views();
      f32.fill(0, zero >> 2, (zero + zeroBytes) >> 2);
      f32.fill(0, acc >> 2, (acc + outBytes) >> 2);
      this.padRows(f32, x, this.ptr(x), xp, g, wp);
      this.mergedIndirection(i32, scratch >> 2, g, xp, wp, zero, 'pixels', M);
      const k = this.kernels;
      const dyPtr = this.ptr(dy);
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
      const { f32: f } = this.views();
      const outPtr = this.ptr(out) >> 2;
      for (let t = 0; t < kh; t++) {
        const src = (acc >> 2) + t * K4 * co;
        f.copyWithin(outPtr + t * K * co, src, src + K * co);
      }
    } finally {
      this.backend.wasm._free(scratch);
    }
    return out;
  }

  /** Rows per call of the per-channel kernels: a block of rows (≤ 32 KB) stays in L1 across the channel chunks. */
  private static rowsPerBlock(c: number): number {
    return Math.max(16, Math.floor((32 * 1024) / (c * 4)));
  }

  /**
   * Per-channel Σ(x − shift) and Σ(x − shift)² of `x` [..., C] (C a multiple of 8), in float64 over blocks of
   * float32 partial sums; shift = the first row (`shifted`) or 0.
   */
  private channelSums(x: TensorInfo, shifted: boolean): { rows: number; shift: Float32Array; s: Float64Array; q: Float64Array } {
    const c = x.shape[x.shape.length - 1]!;
    const rows = x.shape.reduce((a, b) => a * b, 1) / c;
    const scratch = this.malloc(3 * c * 4 + 64);
    try {
      const shift = (scratch + 15) & ~15;
      const sPtr = shift + c * 4;
      const qPtr = sPtr + c * 4;
      let { f32 } = this.views();
      const xPtr = this.ptr(x);
      if (shifted) f32.copyWithin(shift >> 2, xPtr >> 2, (xPtr >> 2) + c);
      else f32.fill(0, shift >> 2, (shift >> 2) + c);
      const s = new Float64Array(c);
      const q = new Float64Array(c);
      const block = SimdConvEngine.rowsPerBlock(c);
      for (let p0 = 0; p0 < rows; p0 += block) {
        const n = Math.min(block, rows - p0);
        f32.fill(0, sPtr >> 2, (qPtr >> 2) + c);
        this.kernels.chsum(xPtr + p0 * c * 4, c * 4, n, c / 8, shift, sPtr, qPtr);
        ({ f32 } = this.views());
        for (let i = 0; i < c; i++) {
          s[i] = s[i]! + f32[(sPtr >> 2) + i]!;
          q[i] = q[i]! + f32[(qPtr >> 2) + i]!;
        }
      }
      return { rows, shift: f32.slice(shift >> 2, (shift >> 2) + c), s, q };
    } finally {
      this.backend.wasm._free(scratch);
    }
  }

  /**
   * Per-channel mean and biased variance of `x` [..., C] (C a multiple of 8), shifted by the first row (no
   * cancellation when the mean is large next to the spread).
   */
  channelMoments(x: TensorInfo): { mean: Float32Array; variance: Float32Array } {
    const { rows, shift, s, q } = this.channelSums(x, true);
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
  channelSum(x: TensorInfo): Float32Array {
    return Float32Array.from(this.channelSums(x, false).s);
  }

  /** out = a·x + c per channel (`a`, `c` of length C, C a multiple of 8): BatchNorm's forward with known statistics. */
  channelAffine(x: TensorInfo, a: Float32Array, c: Float32Array): TensorInfo {
    const ch = x.shape[x.shape.length - 1]!;
    const rows = x.shape.reduce((p, q) => p * q, 1) / ch;
    const out = this.backend.makeOutput([...x.shape], 'float32');
    const scratch = this.malloc(3 * ch * 4 + 64);
    try {
      const aPtr = (scratch + 15) & ~15;
      const bPtr = aPtr + ch * 4;
      const cPtr = bPtr + ch * 4;
      const { f32 } = this.views();
      f32.set(a, aPtr >> 2);
      f32.fill(0, bPtr >> 2, (bPtr >> 2) + ch);
      f32.set(c, cPtr >> 2);
      const xPtr = this.ptr(x);
      const outPtr = this.ptr(out);
      const block = SimdConvEngine.rowsPerBlock(ch);
      for (let p0 = 0; p0 < rows; p0 += block) {
        const n = Math.min(block, rows - p0);
        const off = p0 * ch * 4;
        this.kernels.affine(xPtr + off, xPtr + off, outPtr + off, ch * 4, n, ch / 8, aPtr, bPtr, cPtr);
      }
    } finally {
      this.backend.wasm._free(scratch);
    }
    return out;
  }

  /**
   * BatchNorm backward in two passes: Σdy and Σdy·x per channel, then dx = A·dy + B·x + C
   * (A = γσ⁻¹, B = −Aσ⁻¹·dγ/m, C = −A·dβ/m − B·μ). Returns dx and the parameter gradients.
   */
  batchNormBackward(
    dy: TensorInfo,
    x: TensorInfo,
    mean: Float32Array,
    invStd: Float32Array,
    gamma: Float32Array,
  ): { dx: TensorInfo; dGamma: Float32Array; dBeta: Float32Array } {
    const c = x.shape[x.shape.length - 1]!;
    const rows = x.shape.reduce((a, b) => a * b, 1) / c;
    const dx = this.backend.makeOutput([...x.shape], 'float32');
    const dGamma = new Float32Array(c);
    const dBeta = new Float32Array(c);
    const scratch = this.malloc(5 * c * 4 + 64);
    try {
      const s1 = (scratch + 15) & ~15;
      const s2 = s1 + c * 4;
      const aPtr = s2 + c * 4;
      const bPtr = aPtr + c * 4;
      const cPtr = bPtr + c * 4;
      const dyPtr = this.ptr(dy);
      const xPtr = this.ptr(x);
      const outPtr = this.ptr(dx);
      const block = SimdConvEngine.rowsPerBlock(c);
      const sumDy = new Float64Array(c);
      const sumDyX = new Float64Array(c);
      let { f32 } = this.views();
      for (let p0 = 0; p0 < rows; p0 += block) {
        const n = Math.min(block, rows - p0);
        f32.fill(0, s1 >> 2, (s2 >> 2) + c);
        this.kernels.chsum2(dyPtr + p0 * c * 4, xPtr + p0 * c * 4, c * 4, n, c / 8, s1, s2);
        ({ f32 } = this.views());
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
      for (let p0 = 0; p0 < rows; p0 += block) {
        const n = Math.min(block, rows - p0);
        const off = p0 * c * 4;
        this.kernels.affine(dyPtr + off, xPtr + off, outPtr + off, c * 4, n, c / 8, aPtr, bPtr, cPtr);
      }
    } finally {
      this.backend.wasm._free(scratch);
    }
    return { dx, dGamma, dBeta };
  }

  /**
   * Input gradient of a convolution (the transposed convolution), any stride: the dx pixels are grouped by stride
   * phase ((y + pt) mod sh, (x + pl) mod sw); a phase only meets the filter taps of the same phase, so each is one
   * igemm over exactly its taps (no multiplications by inserted zeros), reading dy rows through an indirection
   * buffer and writing its scattered dx rows through an output-pointer array.
   */
  conv2dBackpropInput(dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
    if (isWinogradConvolution(g)) return winogradBackpropInput(this, dy, filter, g);
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
    const packed = cachedHostFilters(this.backend, filter, `simd-bpi ${sh}x${sw} ${dh}x${dw} ${kh}x${kw}x${ci}x${co}`, (w) =>
      live.map((p) => ({ shape: [(ci8 / 8) * p.taps.length * co * 8], values: packFilterTransposed(w, p.taps, ci, co) })),
    );
    const dx = this.backend.makeOutput([g.batch, H, W, ci], 'float32');
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
    const scratch = this.malloc(indirBytes + outIndBytes + zeroBytes + spareBytes + bufBytes + 64);
    try {
      const indir = scratch;
      const outInd = indir + indirBytes;
      const zero = outInd + outIndBytes;
      const spare = zero + zeroBytes;
      const buf = spare + spareBytes;
      let { f32, i32 } = this.views();
      f32.fill(0, zero >> 2, (zero + zeroBytes) >> 2);
      const dyPtr = this.ptr(dy);
      const dxPtr = this.ptr(dx);
      const outBase = direct ? dxPtr : buf;
      const rowBytes = (direct ? ci : ci8) * 4;
      // pixels of a phase with no tap get no gradient
      if (live.length < phases.length) f32.fill(0, outBase >> 2, (outBase + pixels * rowBytes) >> 2);
      live.forEach((p, pi) => {
        ({ f32, i32 } = this.views());
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
        const w = this.ptr(packed[pi]!);
        const panelBytes = taps * co * 32;
        for (let q = 0; q < ci8; q += 8) {
          // every output pointer + q·4: shift the whole pointer array, run, shift back
          if (q > 0) for (let k = 0; k < groups * 4; k++) i32[O + k] = i32[O + k]! + 32;
          this.kernels.igemmo(indir, taps, co, w + (q / 8) * panelBytes, outInd, 0, zero, 0, groups);
        }
      });
      if (!direct) {
        ({ f32 } = this.views());
        for (let px = 0; px < pixels; px++) f32.copyWithin((dxPtr >> 2) + px * ci, (buf >> 2) + px * ci8, (buf >> 2) + px * ci8 + ci);
      }
    } finally {
      this.backend.wasm._free(scratch);
    }
    return dx;
  }
}

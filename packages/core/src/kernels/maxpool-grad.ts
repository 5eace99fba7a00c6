/**
 * `MaxPoolGrad` on the host, for backends whose tensors live in host memory (wasm, cpu). tfjs-backend-wasm's own
 * is a scalar C++ loop over channels-outer windows; here each output pixel's window is scanned once for all
 * channels at a time (contiguous NHWC rows), with the cpu reference's tie rule (the first maximum in row-major
 * window order gets the gradient).
 */
import { backend_util, type KernelBackend, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { simdConvEngine } from './simd/conv-engine.js';
import { simdSupported } from './simd/conv-kernels.js';
import { defineJob } from './simd/kernel-job.js';
import { isWasmBackend } from './simd/wasm-heap.js';

interface MaxPoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** A 2-d pooling's geometry as plain numbers (what the pooling of one image needs). */
const POOL = ['h', 'w', 'c', 'oh', 'ow', 'sh', 'sw', 'dh', 'dw', 'fh', 'fw', 'top', 'left'] as const;
type PoolGeometry = Record<(typeof POOL)[number], number>;

function poolGeometry(info: backend_util.Conv2DInfo): PoolGeometry {
  return {
    h: info.inHeight,
    w: info.inWidth,
    c: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    fh: info.effectiveFilterHeight,
    fw: info.effectiveFilterWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/** dx of image `item` of a max pool on the wasm heap (x, dy, dx: element offsets; dx zeroed). */
const maxPoolGradJob = defineJob('maxpool.grad', [...POOL, 'x', 'dy', 'dx'], (heap, a, item) => {
  const f32 = heap.views().f32;
  maxPoolGradInto(f32, a.x, f32, a.dy, f32, a.dx, a, item, item + 1);
});

/**
 * dx of image `item` with the SIMD kernel (channels a multiple of 4; x, dy, dx: byte addresses; dx zeroed): one
 * kernel call per output pixel over its window's in-bounds rows and columns.
 */
const maxPoolGradSimdJob = defineJob('maxpool.grad.simd', [...POOL, 'x', 'dy', 'dx'], (heap, a, item) => {
  const { h, w, c, oh, ow, sh, sw, dh, dw, fh, fw, top, left } = a;
  const pix = c * 4;
  const rowBytes = w * pix * dh;
  const colBytes = pix * dw;
  const image = item * h * w * pix;
  const k = heap.kernels;
  for (let yr = 0; yr < oh; yr++) {
    const r0 = yr * sh - top;
    let rMin = r0;
    while (rMin < 0) rMin += dh;
    const rows = Math.ceil((Math.min(h, fh + r0) - rMin) / dh);
    if (rows <= 0) continue;
    const dyRow = a.dy + (item * oh + yr) * ow * pix;
    for (let yc = 0; yc < ow; yc++) {
      const c0 = yc * sw - left;
      let cMin = c0;
      while (cMin < 0) cMin += dw;
      const cols = Math.ceil((Math.min(w, fw + c0) - cMin) / dw);
      if (cols <= 0) continue;
      const at = image + (rMin * w + cMin) * pix;
      k.mpgrad(a.x + at, a.dx + at, dyRow + yc * pix, rowBytes, colBytes, rows, cols, c / 4);
    }
  }
});

/**
 * dx of a 2-d max pool, images [b0, b1): dy routed to each window's (first) maximum. Arrays may be views of one
 * heap: `x`, `dy` and `dx` are read/written from element offsets xOff, dyOff, dxOff (dx must be zeroed).
 */
export function maxPoolGradInto(
  x: Float32Array,
  xOff: number,
  dy: Float32Array,
  dyOff: number,
  dx: Float32Array,
  dxOff: number,
  geometry: PoolGeometry,
  b0: number,
  b1: number,
): void {
  const { h, w, c, oh, ow, sh, sw, dh, dw, fh, fw, top, left } = geometry;
  const maxVal = new Float32Array(c);
  const maxPos = new Int32Array(c);
  for (let b = b0; b < b1; b++) {
    for (let yr = 0; yr < oh; yr++) {
      const r0 = yr * sh - top;
      let rMin = r0;
      while (rMin < 0) rMin += dh;
      const rMax = Math.min(h, fh + r0);
      for (let yc = 0; yc < ow; yc++) {
        const c0 = yc * sw - left;
        let cMin = c0;
        while (cMin < 0) cMin += dw;
        const cMax = Math.min(w, fw + c0);
        maxVal.fill(Number.NEGATIVE_INFINITY);
        maxPos.fill(-1);
        for (let xr = rMin; xr < rMax; xr += dh) {
          for (let xc = cMin; xc < cMax; xc += dw) {
            const base = ((b * h + xr) * w + xc) * c;
            const at = xOff + base;
            for (let d = 0; d < c; d++) {
              const v = x[at + d]!;
              if (v > maxVal[d]!) {
                maxVal[d] = v;
                maxPos[d] = base + d;
              }
            }
          }
        }
        const o = dyOff + ((b * oh + yr) * ow + yc) * c;
        for (let d = 0; d < c; d++) {
          const p = maxPos[d]!;
          if (p >= 0) dx[dxOff + p] = dx[dxOff + p]! + dy[o + d]!;
        }
      }
    }
  }
}

/** dx of a 2-d max pool as a new array. */
export function maxPoolGradHost(x: Float32Array, dy: Float32Array, info: backend_util.Conv2DInfo): Float32Array {
  const dx = new Float32Array(info.batchSize * info.inHeight * info.inWidth * info.inChannels);
  maxPoolGradInto(x, 0, dy, 0, dx, 0, poolGeometry(info), 0, info.batchSize);
  return dx;
}

/** Builds the host `MaxPoolGrad` for a host-memory backend. */
export function maxPoolGradKernel(backendName: string): KernelConfig {
  const kernelFunc = (({ inputs, attrs, backend }) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const a = attrs as unknown as MaxPoolGradAttrs;
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      a.filterSize,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    if (isWasmBackend(backend) && simdSupported()) {
      // in place on the wasm heap (no copies of x, dy and dx through JS arrays), one image per job item
      const out = backend.makeOutput([...input.shape], 'float32');
      const heap = simdConvEngine(backend).heap;
      const off = (t: TensorInfo): number => heap.ptr(t) >>> 2;
      heap.views().f32.fill(0, off(out), off(out) + info.batchSize * info.inHeight * info.inWidth * info.inChannels);
      const geometry = poolGeometry(info);
      if (geometry.c % 4 === 0) {
        const args = { ...geometry, x: heap.ptr(input), dy: heap.ptr(dy), dx: heap.ptr(out) };
        heap.parallel(maxPoolGradSimdJob, args, info.batchSize);
      } else heap.parallel(maxPoolGradJob, { ...geometry, x: off(input), dy: off(dy), dx: off(out) }, info.batchSize);
      return out;
    }
    const b = backend as KernelBackend;
    const dx = maxPoolGradHost(b.readSync(input.dataId) as Float32Array, b.readSync(dy.dataId) as Float32Array, info);
    return { dataId: b.write(dx, input.shape, 'float32'), shape: input.shape, dtype: 'float32' };
  }) as KernelFunc;
  return { kernelName: 'MaxPoolGrad', backendName, kernelFunc };
}

/**
 * `MaxPoolGrad` on the host, for backends whose tensors live in host memory (wasm, cpu). tfjs-backend-wasm's own
 * is a scalar C++ loop over channels-outer windows; here each output pixel's window is scanned once for all
 * channels at a time (contiguous NHWC rows), with the cpu reference's tie rule (the first maximum in row-major
 * window order gets the gradient).
 */
import { backend_util, type KernelBackend, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { isWasmBackend } from './simd/wasm-heap.js';

interface MaxPoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * dx of a 2-d max pool: dy routed to each window's (first) maximum. Arrays may be views of one heap: `x`, `dy`
 * and `dx` are read/written from element offsets xOff, dyOff, dxOff (dx must be zeroed).
 */
export function maxPoolGradInto(
  x: Float32Array,
  xOff: number,
  dy: Float32Array,
  dyOff: number,
  dx: Float32Array,
  dxOff: number,
  info: backend_util.Conv2DInfo,
): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const fh = info.effectiveFilterHeight;
  const fw = info.effectiveFilterWidth;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const maxVal = new Float32Array(c);
  const maxPos = new Int32Array(c);
  for (let b = 0; b < n; b++) {
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
  maxPoolGradInto(x, 0, dy, 0, dx, 0, info);
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
    if (isWasmBackend(backend)) {
      // in place on the wasm heap: no copies of x, dy and dx through JS arrays
      const out = backend.makeOutput([...input.shape], 'float32');
      const heap = new Float32Array(backend.wasm.HEAPU8.buffer);
      const off = (t: TensorInfo): number => backend.dataIdMap.get(t.dataId)!.memoryOffset >> 2;
      heap.fill(0, off(out), off(out) + info.batchSize * info.inHeight * info.inWidth * info.inChannels);
      maxPoolGradInto(heap, off(input), heap, off(dy), heap, off(out), info);
      return out;
    }
    const b = backend as KernelBackend;
    const dx = maxPoolGradHost(b.readSync(input.dataId) as Float32Array, b.readSync(dy.dataId) as Float32Array, info);
    return { dataId: b.write(dx, input.shape, 'float32'), shape: input.shape, dtype: 'float32' };
  }) as KernelFunc;
  return { kernelName: 'MaxPoolGrad', backendName, kernelFunc };
}

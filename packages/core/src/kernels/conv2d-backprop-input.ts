/**
 * `Conv2DBackpropInput` (the transposed convolution) composed from forward convolutions.
 *
 * dx[n, y, x, ci] = Σ_{i, j, co} dy[n, oy, ox, co] · W[i, j, ci, co]   where y + pt = oy·s + i
 *
 * Stride 1: one forward conv of dy with the spatially flipped, in/out-swapped filter.
 * Stride s > 1 (sub-pixel decomposition): the output rows with (y + pt) mod s = r only meet the filter taps
 * i ≡ r (mod s), so each of the s×s output phases is a stride-1 conv of dy with a sub-filter (every s-th tap,
 * flipped). No multiplication by inserted zeros; the phases are interleaved with DepthToSpace.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { convGeometry, type ConvGeometry, type PadAttr } from './conv-geometry.js';
import { cachedHostFilters, isHostBackend, phaseFilter } from './filter-cache.js';
import type { KernelScope } from './kernel-scope.js';
import { withKernelScope } from './kernel-scope.js';

interface Conv2DBackpropInputAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dataFormat?: string;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/** Filter-side operations of the phases. */
export interface PhaseOps {
  /** A stride-1 correlation of `dy` (padded as given) with `filter` (taps already flipped). */
  conv(k: KernelScope, dy: TensorInfo, filter: TensorInfo, pads: Pads): TensorInfo;
  /**
   * The flipped, layout-adapted sub-filter of every phase (taps (ry + s·t, rx + s·u)), phase-major
   * (index ry·sw + rx); `null` for a phase no tap reaches.
   */
  subFilters(k: KernelScope, filter: TensorInfo): Array<TensorInfo | null>;
  /** Channels of the gradient (dx). */
  channels: number;
}

/** Per-side padding. */
export interface Pads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Number of taps i = r + s·t inside a filter of size `k`. */
export function tapsOf(r: number, k: number, s: number): number {
  return r >= k ? 0 : Math.ceil((k - r) / s);
}

/**
 * Transposed convolution of `dy` by phases, shared by the dense and the depthwise gradient.
 * @returns dx [N, H, W, C]
 */
export function transposedConvByPhases(
  k: KernelScope,
  dy: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
  ops: PhaseOps,
): TensorInfo {
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = g;
  const H = g.inHeight;
  const W = g.inWidth;
  const C = ops.channels;
  const filters = ops.subFilters(k, filter);
  if (sh === 1 && sw === 1) {
    // dx rows y need dy rows y + pt − i, i in [0, kh): pad dy by kh−1−pt on top.
    const top = kh - 1 - g.padTop;
    const left = kw - 1 - g.padLeft;
    const bottom = H - g.outHeight + g.padTop;
    const right = W - g.outWidth + g.padLeft;
    return cropConv(k, dy, filters[0]!, { top, bottom, left, right }, ops, [g.batch, H, W, C]);
  }
  // Output rows u = y + pt in [0, Q·sh): u = q·sh + r.
  const Q = Math.ceil((g.padTop + H) / sh);
  const Qx = Math.ceil((g.padLeft + W) / sw);
  const phases: TensorInfo[] = [];
  for (let ry = 0; ry < sh; ry++) {
    for (let rx = 0; rx < sw; rx++) {
      const ty = tapsOf(ry, kh, sh);
      const tx = tapsOf(rx, kw, sw);
      const sub = filters[ry * sw + rx];
      if (ty === 0 || tx === 0 || !sub) {
        phases.push(k.zeros([g.batch, Q, Qx, C]));
        continue;
      }
      const pads = { top: ty - 1, bottom: Q - g.outHeight, left: tx - 1, right: Qx - g.outWidth };
      phases.push(cropConv(k, dy, sub, pads, ops, [g.batch, Q, Qx, C]));
    }
  }
  const stacked = phases.length === 1 ? phases[0]! : k.concat(phases, 3); // [N, Q, Qx, sh·sw·C]
  let full: TensorInfo;
  if (sh === sw && k.has('DepthToSpace')) {
    full = k.depthToSpace(stacked, sh);
  } else {
    const six = k.reshape(stacked, [g.batch, Q, Qx, sh, sw, C]);
    full = k.reshape(k.transpose(six, [0, 1, 3, 2, 4, 5]), [g.batch, Q * sh, Qx * sw, C]);
  }
  if (g.padTop === 0 && g.padLeft === 0 && Q * sh === H && Qx * sw === W) return full;
  return k.slice(full, [0, g.padTop, g.padLeft, 0], [g.batch, H, W, C]);
}

/** A conv with possibly negative pads: negative ones become crops of dy or of the result. */
function cropConv(k: KernelScope, dy: TensorInfo, filter: TensorInfo, pads: Pads, ops: PhaseOps, outShape: number[]): TensorInfo {
  let input = dy;
  const cropTop = Math.max(0, -pads.top);
  const cropLeft = Math.max(0, -pads.left);
  if (cropTop > 0 || cropLeft > 0) {
    const [n, h, w, c] = dy.shape as [number, number, number, number];
    input = k.slice(dy, [0, cropTop, cropLeft, 0], [n, h - cropTop, w - cropLeft, c]);
  }
  const p = {
    top: Math.max(0, pads.top),
    bottom: Math.max(0, pads.bottom),
    left: Math.max(0, pads.left),
    right: Math.max(0, pads.right),
  };
  const out = ops.conv(k, input, filter, p);
  const [n, h, w, c] = out.shape as [number, number, number, number];
  if (h === outShape[1] && w === outShape[2]) return out;
  // Negative bottom/right pads: the conv produced extra rows/cols at the end.
  return k.slice(out, [0, 0, 0, 0], [n, outShape[1]!, outShape[2]!, c]);
}

/**
 * The flipped sub-filters of every stride phase, [th, tw, co, ci] when `swap` (dense) or [th, tw, ci, co]
 * (depthwise). Host backends rearrange the values in JS, once per filter (cached); others use kernels.
 */
export function phaseFilters(k: KernelScope, w: TensorInfo, sh: number, sw: number, swap: boolean): Array<TensorInfo | null> {
  const shape = w.shape as [number, number, number, number];
  const [kh, kw] = shape;
  const phases: Array<[number, number]> = [];
  for (let ry = 0; ry < sh; ry++) for (let rx = 0; rx < sw; rx++) phases.push([ry, rx]);
  if (isHostBackend(k.backendName)) {
    const made = cachedHostFilters(k.backend, w, `phases ${sh}x${sw} ${swap}`, (values) =>
      phases
        .filter(([ry, rx]) => tapsOf(ry, kh, sh) > 0 && tapsOf(rx, kw, sw) > 0)
        .map(([ry, rx]) => phaseFilter(values, shape, ry, rx, sh, sw, swap)),
    );
    let next = 0;
    return phases.map(([ry, rx]) => (tapsOf(ry, kh, sh) > 0 && tapsOf(rx, kw, sw) > 0 ? made[next++]! : null));
  }
  return phases.map(([ry, rx]) => {
    if (tapsOf(ry, kh, sh) === 0 || tapsOf(rx, kw, sw) === 0) return null;
    const sub = sh === 1 && sw === 1 ? w : k.stridedSlice(w, [ry, rx, 0, 0], shape, [sh, sw, 1, 1]);
    const flipped = sub.shape[0] === 1 && sub.shape[1] === 1 ? sub : k.reverse(sub, [0, 1]);
    return swap ? k.transpose(flipped, [0, 1, 3, 2]) : flipped;
  });
}

/** Builds the composed `Conv2DBackpropInput` for one backend. */
export function conv2dBackpropInputKernel(backendName: string): KernelConfig {
  const kernelFunc = (({ inputs, attrs, backend }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as Conv2DBackpropInputAttrs;
    const g = convGeometry(a.inputShape, filter.shape, a.strides, 1, a.pad, a.dimRoundingMode, false, a.dataFormat);
    const ops: PhaseOps = {
      channels: g.inChannels,
      subFilters: (k, w) => phaseFilters(k, w, g.strideHeight, g.strideWidth, true),
      conv(k, x, f, pads) {
        return k.conv2d(x, f, [1, 1], pads);
      },
    };
    return withKernelScope(backendName, backend, (k) => transposedConvByPhases(k, dy, filter, g, ops));
  }) as KernelFunc;
  return { kernelName: 'Conv2DBackpropInput', backendName, kernelFunc };
}

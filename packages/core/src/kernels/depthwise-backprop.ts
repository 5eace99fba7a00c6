/**
 * The two depthwise-convolution gradients, composed from kernels every backend has.
 *
 * `DepthwiseConv2dNativeBackpropInput`: the transposed depthwise conv, by stride phases like the dense one
 * (each phase a stride-1 depthwise conv of dy with a flipped sub-filter), channel multiplier summed out.
 *
 * `DepthwiseConv2dNativeBackpropFilter`: per filter tap (i, j), Σ over n, oy, ox of the strided input window
 * times dy — a strided slice, a multiply and a reduction per tap (kh·kw passes over dy; depthwise layers are
 * cheap next to the pointwise convs around them).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { convGeometry, type PadAttr } from './conv-geometry.js';
import { phaseFilters, transposedConvByPhases, type PhaseOps } from './conv2d-backprop-input.js';
import { KernelCompositionError } from './errors.js';
import { withKernelScope } from './kernel-scope.js';

interface DepthwiseBackpropAttrs {
  strides: number | [number, number];
  dilations?: number | [number, number];
  pad: PadAttr;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function isOne(d: number | [number, number] | undefined): boolean {
  return d === undefined || (typeof d === 'number' ? d === 1 : d[0] === 1 && d[1] === 1);
}

/** Builds the composed `DepthwiseConv2dNativeBackpropInput` for one backend. */
export function depthwiseBackpropInputKernel(backendName: string): KernelConfig {
  const kernelFunc = (({ inputs, attrs, backend }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as DepthwiseBackpropAttrs & { inputShape: [number, number, number, number] };
    if (!isOne(a.dilations)) {
      throw new KernelCompositionError('composed DepthwiseConv2dNativeBackpropInput supports dilation 1 only');
    }
    const g = convGeometry(a.inputShape, filter.shape, a.strides, 1, a.pad, a.dimRoundingMode, true, 'NHWC');
    const [, , channels, multiplier] = filter.shape as [number, number, number, number];
    const ops: PhaseOps = {
      channels,
      subFilters: (k, w) =>
        phaseFilters(k, w, g.strideHeight, g.strideWidth, false).map((f) =>
          f === null ? null : k.reshape(f, [f.shape[0]!, f.shape[1]!, channels * multiplier, 1]),
        ),
      conv(k, x, f, pads) {
        const out = k.depthwiseConv2d(x, f, [1, 1], pads); // [N, h, w, C·M]
        if (multiplier === 1) return out;
        const [n, h, w] = out.shape as [number, number, number, number];
        return k.sum(k.reshape(out, [n, h, w, channels, multiplier]), [4]);
      },
    };
    return withKernelScope(backendName, backend, (k) => transposedConvByPhases(k, dy, filter, g, ops));
  }) as KernelFunc;
  return { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName, kernelFunc };
}

/** Builds the composed `DepthwiseConv2dNativeBackpropFilter` for one backend. */
export function depthwiseBackpropFilterKernel(backendName: string): KernelConfig {
  const kernelFunc = (({ inputs, attrs, backend }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as DepthwiseBackpropAttrs & { filterShape: [number, number, number, number] };
    const g = convGeometry(x.shape, a.filterShape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true, 'NHWC');
    const [kh, kw, channels, multiplier] = a.filterShape;
    const { batch: n, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = g;
    const { dilationHeight: dh, dilationWidth: dw } = g;
    return withKernelScope(backendName, backend, (k) => {
      // Pad the input so that every tap's strided window lies inside it, and (for strides > 1) to a multiple of
      // the stride, so that a window is two plain slices of a reshaped view (the backends' StridedSlice kernels
      // are per-element loops, far slower than Slice's row copies).
      const needH = (kh - 1) * dh + (oh - 1) * sh + 1;
      const needW = (kw - 1) * dw + (ow - 1) * sw + 1;
      const hp = Math.ceil(Math.max(needH, g.inHeight + g.padTop) / sh) * sh;
      const wp = Math.ceil(Math.max(needW, g.inWidth + g.padLeft) / sw) * sw;
      const bottom = hp - g.inHeight - g.padTop;
      const right = wp - g.inWidth - g.padLeft;
      const xp =
        g.padTop === 0 && g.padLeft === 0 && bottom === 0 && right === 0
          ? x
          : k.pad(x, [
              [0, 0],
              [g.padTop, bottom],
              [g.padLeft, right],
              [0, 0],
            ]);
      // [N, hp/sh, sh, (wp/sw)·sw·C]: row r·sh + p is [n, r, p, :].
      const rowsView = sh === 1 && sw === 1 ? xp : k.reshape(xp, [n, hp / sh, sh, wp * channels]);
      const window = (y0: number, x0: number): TensorInfo => {
        if (sh === 1 && sw === 1) return k.slice(xp, [0, y0, x0, 0], [n, oh, ow, channels]);
        // rows y0 + sh·oy = sh·(⌊y0/sh⌋ + oy) + y0 mod sh
        const rows = k.slice(rowsView, [0, Math.floor(y0 / sh), y0 % sh, 0], [n, oh, 1, wp * channels]);
        const cols = k.reshape(rows, [n * oh, wp / sw, sw, channels]);
        const win = k.slice(cols, [0, Math.floor(x0 / sw), x0 % sw, 0], [n * oh, ow, 1, channels]);
        return k.reshape(win, [n, oh, ow, channels]);
      };
      const dy5 = multiplier === 1 ? dy : k.reshape(dy, [n, oh, ow, channels, multiplier]);
      const taps: TensorInfo[] = [];
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const win = window(i * dh, j * dw); // [N, OH, OW, C]
          const prod = multiplier === 1 ? k.multiply(win, dy) : k.multiply(k.reshape(win, [n, oh, ow, channels, 1]), dy5);
          taps.push(k.reshape(k.sum(prod, [0, 1, 2]), [1, channels * multiplier]));
        }
      }
      const all = taps.length === 1 ? taps[0]! : k.concat(taps, 0); // [kh·kw, C·M]
      return k.reshape(all, [kh, kw, channels, multiplier]);
    });
  }) as KernelFunc;
  return { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName, kernelFunc };
}

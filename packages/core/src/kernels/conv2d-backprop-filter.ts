/**
 * `Conv2DBackpropFilter` composed from `Transpose` and a forward `Conv2D`.
 *
 * dW[i, j, ci, co] = Σ_{n, oy, ox} x[n, oy·s + i − pt, ox·s + j − pl, ci] · dy[n, oy, ox, co]
 *
 * Read with ci as the batch, n as the input channels and dy as a (huge, dilated by the stride) filter, this is a
 * forward convolution: conv2d(xᵀ [Ci, H, W, N], dyᵀ [OH, OW, N, Co], dilation = stride) = [Ci, kh, kw, Co],
 * then transposed to [kh, kw, Ci, Co]. The forward conv is the backend's fastest kernel (XNNPACK on wasm).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { convGeometry, type PadAttr } from './conv-geometry.js';
import { withKernelScope } from './kernel-scope.js';

/** The attributes tfjs-core's `conv2DBackpropFilter` op passes. */
interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: PadAttr;
  dataFormat?: string;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** Builds the composed kernel for one backend (it calls that backend's own Transpose/Slice/Conv2D). */
export function conv2dBackpropFilterKernel(backendName: string): KernelConfig {
  const kernelFunc = (({ inputs, attrs, backend }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as Conv2DBackpropFilterAttrs;
    const g = convGeometry(x.shape, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, a.dataFormat);
    return withKernelScope(backendName, backend, (k) => {
      const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = g;
      // Extent of the (padded) input that the filter taps reach; beyond it rows/cols are unused.
      const padBottom = kh + (g.outHeight - 1) * sh - g.inHeight - g.padTop;
      const padRight = kw + (g.outWidth - 1) * sw - g.inWidth - g.padLeft;
      let xIn = x;
      if (padBottom < 0 || padRight < 0) {
        xIn = k.slice(
          x,
          [0, 0, 0, 0],
          [g.batch, g.inHeight + Math.min(padBottom, 0), g.inWidth + Math.min(padRight, 0), g.inChannels],
        );
      }
      const xT = k.transpose(xIn, [3, 1, 2, 0]); // [Ci, H, W, N]
      const dyT = k.transpose(dy, [1, 2, 0, 3]); // [OH, OW, N, Co]
      const conv = k.conv2d(
        xT,
        dyT,
        [1, 1],
        { top: g.padTop, bottom: Math.max(padBottom, 0), left: g.padLeft, right: Math.max(padRight, 0) },
        [sh, sw],
      ); // [Ci, kh, kw, Co]
      return k.transpose(conv, [1, 2, 0, 3]);
    });
  }) as KernelFunc;
  return { kernelName: 'Conv2DBackpropFilter', backendName, kernelFunc };
}

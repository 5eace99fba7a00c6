/**
 * `Conv2DBackpropInput` on WebGPU as a tiled GEMM per stride phase — a transposed convolution without zero
 * insertion. For stride s, the input pixels whose (row + padTop) mod s equal rh only receive gradient from the
 * filter rows kh ≡ rh (mod s); every other tap would multiply an inserted zero. So the grid's z axis runs the s²
 * phases, and each phase is a dense GEMM dX[pixels of the phase, Cin] = dY-gather[pixels, taps·Cout] ·
 * W[taps·Cout, Cin] over only its own taps (a quarter of them at stride 2). Within a phase the dY row of tap a is
 * `baseH + iq − a`, so the gather needs no division by the stride.
 *
 * tfjs 4.22's MatMul-based version walks every tap for every pixel and tests divisibility in floating point.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { convGeometry, type ConvGeometry, type PadAttr } from '../conv-geometry.js';
import { isWebGpuBackend } from './backend-like.js';
import { isNhwcFloat } from './conv2d-backprop-filter.js';
import { TILE_M, TILE_N, gemmShader } from './gemm-tiles.js';
import { wgslProgram } from './program.js';

interface Attrs {
  inputShape: [number, number, number, number];
  strides: number | [number, number];
  pad: PadAttr;
  dataFormat?: string;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Builds the WebGPU `Conv2DBackpropInput`; `fallback` (tfjs' own) runs what it does not handle (NCHW). */
export function webgpuConv2dBackpropInputKernel(fallback: KernelConfig): KernelConfig {
  const kernelFunc = ((args) => {
    const { inputs, attrs, backend } = args;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const a = attrs as unknown as Attrs;
    if (!isWebGpuBackend(backend) || !isNhwcFloat(a.dataFormat, dy, filter)) return fallback.kernelFunc(args);
    const g = convGeometry(a.inputShape, filter.shape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'NHWC');
    const phases = g.strideHeight * g.strideWidth;
    const maxRows = g.batch * Math.ceil(g.inHeight / g.strideHeight) * Math.ceil(g.inWidth / g.strideWidth);
    const consts = [
      g.batch,
      g.inHeight,
      g.inWidth,
      g.inChannels,
      g.outHeight,
      g.outWidth,
      g.outChannels,
      g.filterHeight,
      g.filterWidth,
      g.strideHeight,
      g.strideWidth,
      g.padTop,
      g.padLeft,
    ];
    const program = wgslProgram({
      key: `fastts_conv2dDerInput_${consts.join('_')}`,
      inputs: ['dy', 'w'],
      outputShape: [...a.inputShape],
      workgroupSize: [16, 16, 1],
      dispatch: [Math.ceil(maxRows / TILE_M), Math.ceil(g.inChannels / TILE_N), phases],
      code: inputGradShader(g),
    });
    return backend.runWebGPUProgram(program, [dy, filter], 'float32');
  }) as KernelFunc;
  return { ...fallback, kernelFunc };
}

function inputGradShader(g: ConvGeometry): string {
  const { batch: NB, inHeight: IH, inWidth: IW, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW, padTop: PT, padLeft: PL } = g;
  // One phase (stride 1): a literal, so every per-phase quantity below folds to a constant.
  const phase = SH * SW === 1 ? '0' : 'i32(wid.z)';
  return gemmShader({
    prelude: `
    let z = ${phase};
    let rh = z / ${SW};
    let rw = z % ${SW};
    // First input row/column of this phase, its count, its taps and the dY offset of tap 0.
    let ih0 = ((rh - ${PT}) % ${SH} + ${SH}) % ${SH};
    let iw0 = ((rw - ${PL}) % ${SW} + ${SW}) % ${SW};
    let ihq = (${IH} - ih0 + ${SH - 1}) / ${SH};
    let iwq = (${IW} - iw0 + ${SW - 1}) / ${SW};
    let nkh = select(0, (${KH} - rh + ${SH - 1}) / ${SH}, rh < ${KH});
    let nkw = select(0, (${KW} - rw + ${SW - 1}) / ${SW}, rw < ${KW});
    let baseH = (ih0 + ${PT} - rh) / ${SH};
    let baseW = (iw0 + ${PL} - rw) / ${SW};
    let rows = ${NB} * ihq * iwq;
    let m0 = i32(wid.x) * ${TILE_M};
    let n0 = i32(wid.y) * ${TILE_N};
    let kBegin = 0;
    let kEnd = nkh * nkw * ${CO};
    if (m0 >= rows) { return; }`,
    // A = dY gathered per (pixel, tap, Cout), k-fastest: consecutive threads read consecutive output channels.
    a: {
      fastest: 'k',
      inside: 'm < rows && k < kEnd',
      value: `
          let co = k % ${CO};
          let t = k / ${CO};
          let jq = m % iwq;
          let t2 = m / iwq;
          let oh = baseH + t2 % ihq - t / nkw;
          let ow = baseW + jq - t % nkw;
          if (oh >= 0 && oh < ${OH} && ow >= 0 && ow < ${OW}) {
            v = dy[(((t2 / ihq) * ${OH} + oh) * ${OW} + ow) * ${CO} + co];
          }`,
    },
    // B = W[kh, kw, ci, co] over this phase's taps, k-fastest (co is contiguous in W).
    b: {
      fastest: 'k',
      inside: `n < ${CI} && k < kEnd`,
      value: `
          let t = k / ${CO};
          let kh = rh + (t / nkw) * ${SH};
          let kw = rw + (t % nkw) * ${SW};
          v = w[((kh * ${KW} + kw) * ${CI} + n) * ${CO} + k % ${CO}];`,
    },
    rows: 'rows',
    cols: String(CI),
    store: `
          let t2 = m / iwq;
          let pixel = ((t2 / ihq) * ${IH} + ih0 + (t2 % ihq) * ${SH}) * ${IW} + iw0 + (m % iwq) * ${SW};
          result[pixel * ${CI} + n] = acc[i][j];`,
  });
}

/**
 * `DepthwiseConv2dNativeBackpropFilter` on WebGPU as one fused reduction: dW[kh, kw, c, q] = Σ over n, oh, ow of
 * x[n, oh·s − pad + kh·d, ow·s − pad + kw·d, c] · dY[n, oh, ow, c·mult + q]. Each thread owns one dY channel and
 * keeps every tap's sum in registers, so dY is read once (tfjs 4.22 runs one thread per filter element, each
 * re-reading dY over the whole batch). Workgroups are 64 channels × 4 pixel lanes; the pixels are split into
 * slices across the grid (the filter gradient is tiny, the reduction long), summed by a second pass.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { convGeometry, type PadAttr } from '../conv-geometry.js';
import { isWebGpuBackend } from './backend-like.js';
import { isNhwcFloat } from './conv2d-backprop-filter.js';
import { UNIFORM_WORKGROUP_ID, UNIFORM_WORKGROUP_ID_DECL, splitCount, sumSlices, wgslProgram } from './program.js';

interface Attrs {
  strides: number | [number, number];
  dilations?: number | [number, number];
  pad: PadAttr;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** Taps kept in registers per thread; larger filters fall back to tfjs' kernel. */
const MAX_TAPS = 49;
const LANES = 4;
const CHANNELS = 64;

/** Builds the WebGPU `DepthwiseConv2dNativeBackpropFilter`; `fallback` runs filters over 7×7 and non-float32. */
export function webgpuDepthwiseBackpropFilterKernel(fallback: KernelConfig): KernelConfig {
  const kernelFunc = ((args) => {
    const { inputs, attrs, backend } = args;
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as Attrs;
    const [KH, KW, , MULT] = a.filterShape;
    if (!isWebGpuBackend(backend) || !isNhwcFloat(undefined, x, dy) || KH * KW > MAX_TAPS) return fallback.kernelFunc(args);
    const g = convGeometry(x.shape, a.filterShape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true, 'NHWC');
    const CO = g.inChannels * MULT;
    const P = g.batch * g.outHeight * g.outWidth;
    const blocks = Math.ceil(CO / CHANNELS);
    const slices = splitCount(blocks, P, 512, 64, 256);
    const perSlice = Math.ceil(P / slices);
    const taps = KH * KW;
    const outLen = taps * CO;
    const consts = [
      g.inHeight,
      g.inWidth,
      g.inChannels,
      g.outHeight,
      g.outWidth,
      KH,
      KW,
      MULT,
      g.strideHeight,
      g.strideWidth,
      g.dilationHeight,
      g.dilationWidth,
      g.padTop,
      g.padLeft,
      P,
      perSlice,
    ];
    const program = wgslProgram({
      key: `fastts_dwDerFilter_${consts.join('_')}`,
      inputs: ['x', 'dy'],
      outputShape: slices === 1 ? [...a.filterShape] : [slices, outLen],
      workgroupSize: [CHANNELS, LANES, 1],
      dispatch: [blocks, slices, 1],
      code: `
  ${UNIFORM_WORKGROUP_ID_DECL}
  var<workgroup> red: array<f32, ${CHANNELS * LANES}>;
  fn main() {
    ${UNIFORM_WORKGROUP_ID}
    let tx = i32(localId.x);
    let ty = i32(localId.y);
    let co = i32(wid.x) * ${CHANNELS} + tx;
    let ci = co / ${MULT};
    let slice = i32(wid.y);
    let pEnd = min((slice + 1) * ${perSlice}, ${P});
    var acc: array<f32, ${taps}>;
    if (co < ${CO}) {
      for (var p = slice * ${perSlice} + ty; p < pEnd; p += ${LANES}) {
        let ow = p % ${g.outWidth};
        let t = p / ${g.outWidth};
        let oh = t % ${g.outHeight};
        let nb = t / ${g.outHeight};
        let d = dy[p * ${CO} + co];
        for (var kh = 0; kh < ${KH}; kh++) {
          let ih = oh * ${g.strideHeight} - ${g.padTop} + kh * ${g.dilationHeight};
          if (ih < 0 || ih >= ${g.inHeight}) { continue; }
          for (var kw = 0; kw < ${KW}; kw++) {
            let iw = ow * ${g.strideWidth} - ${g.padLeft} + kw * ${g.dilationWidth};
            if (iw < 0 || iw >= ${g.inWidth}) { continue; }
            acc[kh * ${KW} + kw] += x[((nb * ${g.inHeight} + ih) * ${g.inWidth} + iw) * ${g.inChannels} + ci] * d;
          }
        }
      }
    }
    // Sum the ${LANES} pixel lanes of each tap through workgroup memory.
    for (var tap = 0; tap < ${taps}; tap++) {
      red[ty * ${CHANNELS} + tx] = acc[tap];
      workgroupBarrier();
      if (ty == 0 && co < ${CO}) {
        var s = 0.0;
        for (var l = 0; l < ${LANES}; l++) { s += red[l * ${CHANNELS} + tx]; }
        result[slice * ${outLen} + tap * ${CO} + co] = s;
      }
      workgroupBarrier();
    }
  }`,
    });
    const out = backend.runWebGPUProgram(program, [x, dy], 'float32');
    return slices === 1 ? out : sumSlices(backend, out, slices, [...a.filterShape]);
  }) as KernelFunc;
  return { ...fallback, kernelFunc };
}

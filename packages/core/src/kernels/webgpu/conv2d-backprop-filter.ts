/**
 * `Conv2DBackpropFilter` on WebGPU as a tiled GEMM: dW[M, N] = im2col(x)ᵀ · dY, with M = kh·kw·Cin (the filter's
 * row-major layout, so the output needs no transpose), N = Cout and the reduction over every output pixel
 * (N·OH·OW). tfjs 4.22 runs one thread per filter element looping over all N·OH·OW pixels with no data reuse;
 * here each loaded x and dy value is reused 64 times from workgroup memory.
 *
 * The filter gradient is small (a 3×3×64×64 filter is 9×1 tiles) while the reduction is long (N·OH·OW = 200k
 * at 56 px, batch 64), so the reduction is split into slices (split-K) that run as separate workgroups (grid z)
 * and a second pass sums them ({@link sumSlices}).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { convGeometry, type ConvGeometry, type PadAttr } from '../conv-geometry.js';
import { isWebGpuBackend } from './backend-like.js';
import { TILE_K, TILE_M, TILE_N, gemmShader } from './gemm-tiles.js';
import { splitCount, sumSlices, wgslProgram } from './program.js';

interface Attrs {
  strides: number | [number, number];
  pad: PadAttr;
  dataFormat?: string;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** Whether the fastts kernel handles this call (else the original runs). */
export function isNhwcFloat(dataFormat: string | undefined, ...tensors: TensorInfo[]): boolean {
  return (
    (dataFormat === undefined || dataFormat === 'NHWC' || dataFormat === 'channelsLast') &&
    tensors.every((t) => t.dtype === 'float32')
  );
}

/** Builds the WebGPU `Conv2DBackpropFilter`; `fallback` (tfjs' own) runs what it does not handle (NCHW). */
export function webgpuConv2dBackpropFilterKernel(fallback: KernelConfig): KernelConfig {
  const kernelFunc = ((args) => {
    const { inputs, attrs, backend } = args;
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const a = attrs as unknown as Attrs;
    if (!isWebGpuBackend(backend) || !isNhwcFloat(a.dataFormat, x, dy)) return fallback.kernelFunc(args);
    const g = convGeometry(x.shape, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'NHWC');
    const M = g.filterHeight * g.filterWidth * g.inChannels;
    const N = g.outChannels;
    const K = g.batch * g.outHeight * g.outWidth;
    const tiles = Math.ceil(M / TILE_M) * Math.ceil(N / TILE_N);
    const slices = splitCount(tiles, K);
    const kPerSlice = Math.ceil(K / slices / TILE_K) * TILE_K;
    const consts = [
      g.inHeight,
      g.inWidth,
      g.inChannels,
      g.outHeight,
      g.outWidth,
      g.filterWidth,
      g.strideHeight,
      g.strideWidth,
      g.padTop,
      g.padLeft,
    ];
    const program = wgslProgram({
      key: `fastts_conv2dDerFilter_${consts.join('_')}_${M}_${N}_${K}_${kPerSlice}`,
      inputs: ['x', 'dy'],
      outputShape: slices === 1 ? [...a.filterShape] : [slices, M * N],
      workgroupSize: [16, 16, 1],
      dispatch: [Math.ceil(M / TILE_M), Math.ceil(N / TILE_N), slices],
      code: filterGradShader(g, M, N, K, kPerSlice),
    });
    const out = backend.runWebGPUProgram(program, [x, dy], 'float32');
    return slices === 1 ? out : sumSlices(backend, out, slices, [...a.filterShape]);
  }) as KernelFunc;
  return { ...fallback, kernelFunc };
}

function filterGradShader(g: ConvGeometry, M: number, N: number, K: number, kPerSlice: number): string {
  return gemmShader({
    prelude: `
    let m0 = i32(wid.x) * ${TILE_M};
    let n0 = i32(wid.y) * ${TILE_N};
    let slice = i32(wid.z);
    let kBegin = slice * ${kPerSlice};
    let kEnd = min(kBegin + ${kPerSlice}, ${K});`,
    // A = im2col(x)ᵀ, m-fastest: consecutive threads read consecutive input channels.
    a: {
      fastest: 'mn',
      inside: `m < ${M} && k < kEnd`,
      value: `
          let ci = m % ${g.inChannels};
          let t = m / ${g.inChannels};
          let kw = t % ${g.filterWidth};
          let kh = t / ${g.filterWidth};
          let ow = k % ${g.outWidth};
          let t2 = k / ${g.outWidth};
          let oh = t2 % ${g.outHeight};
          let nb = t2 / ${g.outHeight};
          let ih = oh * ${g.strideHeight} - ${g.padTop} + kh;
          let iw = ow * ${g.strideWidth} - ${g.padLeft} + kw;
          if (ih >= 0 && ih < ${g.inHeight} && iw >= 0 && iw < ${g.inWidth}) {
            v = x[((nb * ${g.inHeight} + ih) * ${g.inWidth} + iw) * ${g.inChannels} + ci];
          }`,
    },
    // B = dY as [pixels, Cout], n-fastest (contiguous rows).
    b: { fastest: 'mn', inside: `n < ${N} && k < kEnd`, value: `v = dy[k * ${N} + n];` },
    rows: String(M),
    cols: String(N),
    store: `result[slice * ${M * N} + m * ${N} + n] = acc[i][j];`,
  });
}

/**
 * BatchNorm's training passes on WebGPU as fused reductions, under the kernel names core's `batchNormTrain` runs
 * where registered. tfjs composes the same math from `Mean`, `SquaredDifference`, `Sum`, `Mul`, `Rsqrt`, ... —
 * about ten full passes over the activation per layer; here the statistics read x once, the backward reads dy
 * and x twice (one reduction, one elementwise pass), and the rest touches per-channel vectors only.
 *
 * Reductions run on workgroups of 64 channels × 4 row lanes (neighbouring threads read neighbouring channels of
 * one row: coalesced), with the rows split into slices across the grid so that even a 64-channel layer fills the
 * GPU; a per-channel pass then sums the slices and finishes the statistic.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { BATCHNORM_APPLY, BATCHNORM_GRAD, BATCHNORM_STATS } from '../batchnorm-names.js';
import { isWebGpuBackend, type WebGpuBackendLike } from './backend-like.js';
import {
  FLAT_INDEX,
  FLAT_WORKGROUP,
  KEEP_UNIFORMS,
  UNIFORM_WORKGROUP_ID,
  UNIFORM_WORKGROUP_ID_DECL,
  flatDispatch,
  splitCount,
  wgslProgram,
} from './program.js';

const CHANNELS = 64;
const LANES = 4;

interface Layout {
  channels: number;
  rows: number;
  slices: number;
  perSlice: number;
}

function layoutOf(x: TensorInfo): Layout {
  const channels = x.shape[x.shape.length - 1]!;
  const rows = x.shape.reduce((a, b) => a * b, 1) / channels;
  const slices = splitCount(Math.ceil(channels / CHANNELS), rows, 512, 64, 256);
  return { channels, rows, slices, perSlice: Math.ceil(rows / slices) };
}

/**
 * Per-slice, per-channel sums of `first` and `second` (WGSL expressions of row `r`, channel `c`) into
 * `[slices, 2, C]`.
 */
function channelSums(
  backend: WebGpuBackendLike,
  name: string,
  inputs: TensorInfo[],
  names: string[],
  l: Layout,
  prelude: string,
  first: string,
  second: string,
): TensorInfo {
  const C = l.channels;
  const program = wgslProgram({
    key: `fastts_bn${name}_${C}_${l.rows}_${l.perSlice}`,
    inputs: names,
    outputShape: [l.slices, 2, C],
    workgroupSize: [CHANNELS, LANES, 1],
    dispatch: [Math.ceil(C / CHANNELS), l.slices, 1],
    code: `
  ${UNIFORM_WORKGROUP_ID_DECL}
  var<workgroup> red1: array<f32, ${CHANNELS * LANES}>;
  var<workgroup> red2: array<f32, ${CHANNELS * LANES}>;
  fn main() {
    ${UNIFORM_WORKGROUP_ID}
    let tx = i32(localId.x);
    let ty = i32(localId.y);
    let c = i32(wid.x) * ${CHANNELS} + tx;
    let slice = i32(wid.y);
    var s1 = 0.0;
    var s2 = 0.0;
    if (c < ${C}) {
      ${prelude}
      let rEnd = min((slice + 1) * ${l.perSlice}, ${l.rows});
      for (var r = slice * ${l.perSlice} + ty; r < rEnd; r += ${LANES}) {
        let i = r * ${C} + c;
        s1 += ${first};
        s2 += ${second};
      }
    }
    red1[ty * ${CHANNELS} + tx] = s1;
    red2[ty * ${CHANNELS} + tx] = s2;
    workgroupBarrier();
    if (ty == 0 && c < ${C}) {
      var t1 = 0.0;
      var t2 = 0.0;
      for (var k = 0; k < ${LANES}; k++) {
        t1 += red1[k * ${CHANNELS} + tx];
        t2 += red2[k * ${CHANNELS} + tx];
      }
      result[slice * ${2 * C} + c] = t1;
      result[slice * ${2 * C} + ${C} + c] = t2;
    }
  }`,
  });
  return backend.runWebGPUProgram(program, inputs, 'float32');
}

/** A per-channel pass: `body` sets `v` for channel `c` (and may read `S1`, `S2`, the slice sums). */
function perChannel(
  backend: WebGpuBackendLike,
  key: string,
  inputs: TensorInfo[],
  names: string[],
  outputShape: number[],
  l: Layout,
  body: string,
): TensorInfo {
  const n = outputShape.reduce((a, b) => a * b, 1);
  const C = l.channels;
  const program = wgslProgram({
    key: `fastts_bn${key}_${C}_${l.slices}_${l.rows}`,
    inputs: names,
    outputShape,
    workgroupSize: [FLAT_WORKGROUP, 1, 1],
    dispatch: flatDispatch(n),
    code: `
  fn main() {
    ${KEEP_UNIFORMS}
    let i = ${FLAT_INDEX};
    if (i >= ${n}) { return; }
    let c = i % ${C};
    let row = i / ${C};
    var S1 = 0.0;
    var S2 = 0.0;
    for (var k = 0; k < ${l.slices}; k++) {
      S1 += partial[k * ${2 * C} + c];
      S2 += partial[k * ${2 * C} + ${C} + c];
    }
    var v = 0.0;
    ${body}
    result[i] = v;
  }`,
  });
  return backend.runWebGPUProgram(program, inputs, 'float32');
}

/** An elementwise pass over x-shaped tensors; `expr` of `i` (flat index) and `c` (channel). */
function elementwise(
  backend: WebGpuBackendLike,
  key: string,
  inputs: TensorInfo[],
  names: string[],
  shape: number[],
  C: number,
  expr: string,
): TensorInfo {
  const n = shape.reduce((a, b) => a * b, 1);
  const program = wgslProgram({
    key: `fastts_bn${key}_${C}_${n}`,
    inputs: names,
    outputShape: shape,
    workgroupSize: [FLAT_WORKGROUP, 1, 1],
    dispatch: flatDispatch(n, backend.device.limits.maxComputeWorkgroupsPerDimension),
    code: `
  fn main() {
    ${KEEP_UNIFORMS}
    let i = ${FLAT_INDEX};
    if (i >= ${n}) { return; }
    let c = i % ${C};
    result[i] = ${expr};
  }`,
  });
  return backend.runWebGPUProgram(program, inputs, 'float32');
}

function wgslFloat(v: number): string {
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** `FasttsBatchNormStats` on WebGPU: one read of x, then mean and biased variance per channel. */
export function webgpuBatchNormStatsKernel(): KernelConfig {
  const kernelFunc = (({ inputs, backend }) => {
    if (!isWebGpuBackend(backend)) throw new Error(`${BATCHNORM_STATS}: not a webgpu backend`);
    const { x } = inputs as { x: TensorInfo };
    const l = layoutOf(x);
    // Sums of (x − K) and (x − K)² with K = the channel's first value: a shift keeps the variance from cancelling
    // when |mean| ≫ std (E[x²] − E[x]² in f32 loses every digit there).
    const partial = channelSums(
      backend,
      'Stats',
      [x],
      ['x'],
      l,
      'let shift = x[c];',
      'x[i] - shift',
      '(x[i] - shift) * (x[i] - shift)',
    );
    const inv = wgslFloat(1 / l.rows);
    const mean = perChannel(backend, 'Mean', [partial, x], ['partial', 'x'], [l.channels], l, `v = x[c] + S1 * ${inv};`);
    const variance = perChannel(
      backend,
      'Var',
      [partial],
      ['partial'],
      [l.channels],
      l,
      `let m = S1 * ${inv}; v = max(S2 * ${inv} - m * m, 0.0);`,
    );
    backend.disposeData(partial.dataId);
    return [mean, variance];
  }) as KernelFunc;
  return { kernelName: BATCHNORM_STATS, backendName: 'webgpu', kernelFunc };
}

/** `FasttsBatchNormApply` on WebGPU: y = γ(x − μ)/√(σ² + ε) + β in one elementwise pass. */
export function webgpuBatchNormApplyKernel(): KernelConfig {
  const kernelFunc = (({ inputs, attrs, backend }) => {
    if (!isWebGpuBackend(backend)) throw new Error(`${BATCHNORM_APPLY}: not a webgpu backend`);
    const { x, mean, variance, gamma, beta } = inputs as Record<'x' | 'mean' | 'variance' | 'gamma' | 'beta', TensorInfo>;
    const eps = wgslFloat((attrs as unknown as { eps: number }).eps);
    const C = x.shape[x.shape.length - 1]!;
    return elementwise(
      backend,
      `Apply_${eps}`,
      [x, mean, variance, gamma, beta],
      ['x', 'mean', 'variance', 'gamma', 'beta'],
      [...x.shape],
      C,
      `(x[i] - mean[c]) * gamma[c] * inverseSqrt(variance[c] + ${eps}) + beta[c]`,
    );
  }) as KernelFunc;
  return { kernelName: BATCHNORM_APPLY, backendName: 'webgpu', kernelFunc };
}

/**
 * `FasttsBatchNormGrad` on WebGPU: Σdy and Σdy·(x − μ) in one reduction, per-channel coefficients, then
 * dx = A·dy + B·(x − μ) + D with A = γσ⁻¹, B = −Aσ⁻²·Σdy(x − μ)/m, D = −A·Σdy/m.
 */
export function webgpuBatchNormGradKernel(): KernelConfig {
  const kernelFunc = (({ inputs, attrs, backend }) => {
    if (!isWebGpuBackend(backend)) throw new Error(`${BATCHNORM_GRAD}: not a webgpu backend`);
    const { dy, x, mean, variance, gamma } = inputs as Record<'dy' | 'x' | 'mean' | 'variance' | 'gamma', TensorInfo>;
    const eps = wgslFloat((attrs as unknown as { eps: number }).eps);
    const l = layoutOf(x);
    const C = l.channels;
    const partial = channelSums(
      backend,
      'GradSums',
      [dy, x, mean],
      ['dy', 'x', 'mean'],
      l,
      'let mu = mean[c];',
      'dy[i]',
      'dy[i] * (x[i] - mu)',
    );
    const inv = wgslFloat(1 / l.rows);
    const vecs = [partial, variance, gamma, mean];
    const names = ['partial', 'variance', 'gamma', 'mean'];
    const invStd = `inverseSqrt(variance[c] + ${eps})`;
    const dGamma = perChannel(
      backend,
      `DGamma_${eps}`,
      [partial, variance],
      ['partial', 'variance'],
      [C],
      l,
      `v = S2 * ${invStd};`,
    );
    const dBeta = perChannel(backend, 'DBeta', [partial], ['partial'], [C], l, 'v = S1;');
    // Rows of coef: A, B, D, μ.
    const coef = perChannel(
      backend,
      `Coef_${eps}`,
      vecs,
      names,
      [4, C],
      l,
      `
    let s = ${invStd};
    let a = gamma[c] * s;
    if (row == 0) { v = a; }
    else if (row == 1) { v = -a * s * s * S2 * ${inv}; }
    else if (row == 2) { v = -a * S1 * ${inv}; }
    else { v = mean[c]; }`,
    );
    backend.disposeData(partial.dataId);
    const dx = elementwise(
      backend,
      'Dx',
      [dy, x, coef],
      ['dy', 'x', 'coef'],
      [...x.shape],
      C,
      `coef[c] * dy[i] + coef[${C} + c] * (x[i] - coef[${3 * C} + c]) + coef[${2 * C} + c]`,
    );
    backend.disposeData(coef.dataId);
    return [dx, dGamma, dBeta];
  }) as KernelFunc;
  return { kernelName: BATCHNORM_GRAD, backendName: 'webgpu', kernelFunc };
}

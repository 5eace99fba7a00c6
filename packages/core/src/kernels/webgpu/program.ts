/**
 * Building blocks of fastts' WGSL programs: a program object in the shape tfjs-backend-webgpu runs, a flat grid
 * that respects the per-dimension workgroup limit, and the reduction that sums split-K partial results.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGpuBackendLike, WebGpuProgram } from './backend-like.js';

/** What {@link wgslProgram} needs: the shader body, its bindings and its grid. */
export interface ProgramSpec {
  /** Unique per distinct generated code (every baked-in constant), e.g. `fastts_dwF_3_3_1_1`. */
  key: string;
  inputs: string[];
  outputShape: number[];
  workgroupSize: [number, number, number];
  dispatch: [number, number, number];
  /** WGSL declarations and `fn main()`; see {@link UNIFORM_WORKGROUP_ID}. */
  code: string;
}

/**
 * A program for `backend.runWebGPUProgram`. The layout names three dispatch dimensions so tfjs calls `main()`
 * without a flat index (fastts' shaders compute their own indices) and never reshapes the grid. A fresh object per
 * call: tfjs rewrites `shaderKey` and caches the pipeline on it.
 */
export function wgslProgram(spec: ProgramSpec): WebGpuProgram {
  return {
    variableNames: spec.inputs,
    outputShape: spec.outputShape,
    shaderKey: spec.key,
    dispatchLayout: { x: [0], y: [1], z: [2] },
    dispatch: spec.dispatch,
    workgroupSize: spec.workgroupSize,
    getUserCode: () => spec.code,
  };
}

/**
 * WGSL that reads the workgroup id as a *uniform* value (`wid`). tfjs copies the builtins into `var<private>`
 * globals, which WGSL's uniformity analysis treats as non-uniform; a barrier under a loop whose bounds come from
 * them fails validation. `workgroupUniformLoad` makes the value provably uniform. Needs `var<workgroup> wgId`.
 */
export const UNIFORM_WORKGROUP_ID = `
  _ = uniforms.NAN;
  if (localIndex == 0u) { wgId = workgroupId; }
  let wid = workgroupUniformLoad(&wgId);`;

/** Declaration used by {@link UNIFORM_WORKGROUP_ID}. */
export const UNIFORM_WORKGROUP_ID_DECL = 'var<workgroup> wgId: vec3<u32>;';

/**
 * WGSL statement that uses the uniform buffer: tfjs always binds it, and a pipeline with `layout: 'auto'` built
 * from a shader that never reads it has no such binding (a validation error). Part of {@link UNIFORM_WORKGROUP_ID}.
 */
export const KEEP_UNIFORMS = '_ = uniforms.NAN;';

/** Threads per workgroup of the flat (elementwise) programs. */
export const FLAT_WORKGROUP = 256;

/**
 * A 2-D grid of {@link FLAT_WORKGROUP}-thread workgroups covering `n` threads: WebGPU caps each dimension
 * (65535 by default), which a flat grid over a large activation exceeds. Shaders read the thread index with
 * {@link FLAT_INDEX}.
 */
export function flatDispatch(n: number, maxPerDim = 65535): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / FLAT_WORKGROUP));
  if (groups <= maxPerDim) return [groups, 1, 1];
  const x = Math.ceil(Math.sqrt(groups));
  return [x, Math.ceil(groups / x), 1];
}

/** WGSL expression: the flat thread index of a {@link flatDispatch} grid. */
export const FLAT_INDEX = `i32((workgroupId.y * numWorkgroups.x + workgroupId.x) * ${FLAT_WORKGROUP}u + localIndex)`;

/**
 * Sums `partial` (`[slices, length]`, the split-K partial results) over its first axis into a tensor of
 * `outputShape` (`length` elements), then frees `partial`. One thread per output element: the slices of one
 * element are `length` apart, so neighbouring threads read neighbouring addresses.
 */
export function sumSlices(backend: WebGpuBackendLike, partial: TensorInfo, slices: number, outputShape: number[]): TensorInfo {
  const length = outputShape.reduce((a, b) => a * b, 1);
  const program = wgslProgram({
    key: `fastts_sumSlices_${slices}_${length}`,
    inputs: ['partial'],
    outputShape,
    workgroupSize: [FLAT_WORKGROUP, 1, 1],
    dispatch: flatDispatch(length, backend.device.limits.maxComputeWorkgroupsPerDimension),
    code: `
  fn main() {
    ${KEEP_UNIFORMS}
    let i = ${FLAT_INDEX};
    if (i >= ${length}) { return; }
    var s = 0.0;
    for (var k = 0; k < ${slices}; k++) { s += partial[k * ${length} + i]; }
    result[i] = s;
  }`,
  });
  const out = backend.runWebGPUProgram(program, [partial], 'float32');
  backend.disposeData(partial.dataId);
  return out;
}

/**
 * How many slices to split a reduction of `depth` terms into so that `tiles` output tiles × slices give the GPU
 * about `targetGroups` workgroups, with at least `minDepth` terms per slice (fewer makes the extra pass cost more
 * than it saves).
 */
export function splitCount(tiles: number, depth: number, targetGroups = 512, minDepth = 256, maxSlices = 64): number {
  if (tiles >= targetGroups) return 1;
  const want = Math.ceil(targetGroups / tiles);
  return Math.max(1, Math.min(want, Math.floor(depth / minDepth), maxSlices));
}

/**
 * The parts of tfjs-backend-webgpu 4.22 that fastts' kernels use, typed structurally: core depends on tfjs-core
 * only, and the kernels receive the backend object from the kernel registry at run time.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

/** A program-defined uniform (appended after tfjs' own: NaN, Infinity, shapes and strides). */
export interface ProgramUniform {
  type: 'int32' | 'uint32' | 'float32';
  data: number[];
}

/**
 * tfjs-backend-webgpu's `WebGPUProgram`: `runWebGPUProgram` wraps `getUserCode()` in a shader that declares one
 * `array<f32>` storage buffer per `variableNames` entry, the output as `result`, a `uniforms` struct with every
 * shape, and the private copies of the builtins (`localId`, `localIndex`, `workgroupId`, `numWorkgroups`).
 */
export interface WebGpuProgram {
  variableNames: string[];
  outputShape: number[];
  /** Pipeline cache key; tfjs appends the ranks and dtypes of the inputs. Must encode every baked-in constant. */
  shaderKey: string;
  /** With `y` or `z` non-empty the shader's entry calls `main()` (no flat index argument). */
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  size?: boolean;
  getUserCode(): string;
}

/** The parts of `WebGPUBackend` used here. */
export interface WebGpuBackendLike {
  device: {
    limits: { maxStorageBuffersPerShaderStage: number; maxComputeWorkgroupsPerDimension: number };
    queue: { onSubmittedWorkDone(): Promise<void> };
  };
  runWebGPUProgram(program: WebGpuProgram, inputs: TensorInfo[], outputDtype: DataType, uniforms?: ProgramUniform[]): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Whether `backend` looks like tfjs-backend-webgpu's (so a kernel can run programs on it). */
export function isWebGpuBackend(backend: unknown): backend is WebGpuBackendLike {
  const b = backend as Partial<WebGpuBackendLike> | null;
  return typeof b?.runWebGPUProgram === 'function' && typeof b.device === 'object';
}

/**
 * Errors of the GPU adapters: each names the piece of the GPU stack that is missing and what to do about it.
 */

/** The GPU paths fastts knows on Node. */
export type GpuBackendName = 'cuda' | 'webgpu';

/** What stopped the CUDA path (tfjs-node-gpu) from working. */
export type CudaMissing =
  /** `@tensorflow/tfjs-node-gpu` is not installed. */
  | 'module'
  /** The package is installed, but its native addon (`tfjs_binding.node`) was never downloaded/built. */
  | 'binding'
  /** The native addon exists, but `libtensorflow.so.2` (downloaded by the install script) is missing. */
  | 'libtensorflow'
  /** The addon failed to load for another reason (message attached). */
  | 'load-failed'
  /** libtensorflow loaded, but no NVIDIA kernel driver / GPU device is visible. */
  | 'driver'
  /** A driver is present, but the CUDA 11.2 / cuDNN 8.1 libraries libtensorflow needs were not found. */
  | 'cuda-libraries'
  /** Everything seems present, yet TensorFlow placed no op on a GPU. */
  | 'gpu';

/** What stopped the WebGPU-through-Dawn path from working. */
export type WebGpuMissing =
  /** The `webgpu` npm package (Dawn for Node) is not installed. */
  | 'module'
  /** The package is installed, but its `dawn.node` binary failed to load. */
  | 'dawn-binary'
  /** Dawn found no usable adapter (no Vulkan driver / ICD). */
  | 'adapter'
  /** Only a software (fallback) adapter such as SwiftShader exists, and a hardware one was required. */
  | 'fallback-adapter'
  /** The adapter was found but creating the device / tfjs backend failed. */
  | 'device';

/** Base class: a GPU backend was asked for (or probed) and cannot run here. */
export class GpuBackendUnavailableError extends Error {
  constructor(
    /** Which GPU path. */
    readonly backend: GpuBackendName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** `--backend cuda` cannot work: {@link CudaUnavailableError.missing} says which piece is absent. */
export class CudaUnavailableError extends GpuBackendUnavailableError {
  constructor(
    /** The missing piece. */
    readonly missing: CudaMissing,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('cuda', message, options);
  }
}

/** `--backend webgpu` (Dawn) cannot work: {@link WebGpuUnavailableError.missing} says which piece is absent. */
export class WebGpuUnavailableError extends GpuBackendUnavailableError {
  constructor(
    /** The missing piece. */
    readonly missing: WebGpuMissing,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('webgpu', message, options);
  }
}

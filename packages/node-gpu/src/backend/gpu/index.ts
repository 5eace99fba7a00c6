/**
 * GPU adapters of the Node platform: CUDA through `@tensorflow/tfjs-node-gpu` and WebGPU through Dawn (`webgpu`).
 * Both are optional dependencies loaded lazily; each `try*` function returns a {@link GpuBackendResult} and
 * leaves the backend active only when it works.
 */
export { tryCuda, explainCudaLoadError, explainNoGpu, CUDA_MODULE, CUDA_TF_BACKEND } from './cuda.js';
export type { TryCudaOptions } from './cuda.js';
export { probeCudaSystem, hasGpuDeviceNode, CUDA_LIBRARIES } from './cudaProbe.js';
export type { CudaSystemProbe } from './cudaProbe.js';
export {
  tryDawnWebgpu,
  installWebGpuGlobals,
  summarizeAdapter,
  describeAdapter,
  DAWN_MODULE,
  WEBGPU_TF_BACKEND,
  SWIFTSHADER_ICD,
} from './dawn.js';
export type { TryDawnWebgpuOptions, DawnModule, DawnGpuLike, DawnAdapterLike } from './dawn.js';
export { gpuCandidates } from './candidates.js';
export type { GpuCandidate } from './candidates.js';
export { GpuBackendUnavailableError, CudaUnavailableError, WebGpuUnavailableError } from './errors.js';
export type { GpuBackendName, CudaMissing, WebGpuMissing } from './errors.js';
export type { GpuBackendResult, GpuBackendSuccess, GpuBackendFailure, WebGpuAdapterSummary } from './result.js';

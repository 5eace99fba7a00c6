/**
 * `kernels/webgpu`: fastts' kernels for tfjs-backend-webgpu (WGSL convolution gradients and BatchNorm passes, the
 * `AddN` fix) and the WebGPU adapter summary both platforms print. Typed structurally: core does not depend on
 * tfjs-backend-webgpu or on WebGPU's type definitions; the Node platform (Dawn) and the browser platform call
 * {@link patchWebgpuKernels} once the backend module is loaded.
 */
export { patchWebgpuKernels, registerWebgpuKernels, unregisterWebgpuKernels, webgpuKernelNames } from './register.js';
export type { PatchWebgpuKernelsOptions, RegisterWebgpuKernelsOptions } from './register.js';
export { describeAdapter, summarizeAdapter } from './adapter.js';
export type { WebGpuAdapterLike, WebGpuAdapterSummary } from './adapter.js';
export { isWebGpuBackend } from './backend-like.js';
export type { ProgramUniform, WebGpuBackendLike, WebGpuProgram } from './backend-like.js';

/**
 * @fastts/webgpu — the browser platform for fastts: WebGPU (tfjs-backend-webgpu) with wasm then WebGL fallback,
 * File/Blob/ImageBitmap decoding into core's pixel format, and data sets from dropped folders.
 * Re-exports all of @fastts/core, so a web app imports everything from here.
 * @packageDocumentation
 */
export * from '@fastts/core';
export {
  setupBackend,
  setWasmPaths,
  webgpuAdapterInfo,
  type BackendReport,
  type SetupBackendOptions,
  type WasmBinaryName,
  type WasmPaths,
  type WebBackendName,
  type WebGpuAdapterInfo,
} from './backend.js';
export { decodeImage, fitRect, type DecodeImageOptions, type ImageSource } from './decode.js';
export { filesFromDataTransfer, filesFromFileList, normalizePath, type RelativeFile } from './files.js';
export { FilePlatform, commonRoot, fromFiles, sniffImageFormat, type FromFilesOptions } from './platform.js';
export { BackendUnavailableError, UnsupportedImageSourceError, WebPlatformError } from './errors.js';
export { patchWebgpuKernels } from './kernels.js';

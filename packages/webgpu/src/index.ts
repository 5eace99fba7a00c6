/**
 * @fastts/webgpu — the browser platform for fastts: WebGPU (tfjs-backend-webgpu) with wasm then WebGL fallback,
 * File/Blob/ImageBitmap decoding into core's pixel format, and data sets from dropped folders.
 * Re-exports @fastts/core's API, so a web app imports everything from here.
 * @packageDocumentation
 */
export * from '@fastts/core';
// What a browser app needs beyond core's API: memory storage for save/export, and readers for the pretrained weights
// it fetches itself.
export { MemoryStorage, type LearnerStorage } from '@fastts/core/platform';
export { pretrainedFromBytes, pretrainedFromLayersModel, type PretrainedWeights } from '@fastts/core/weights';
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

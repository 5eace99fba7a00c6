/**
 * @fastts/node-gpu — the Node platform for fastts: backend choice (CUDA through @tensorflow/tfjs-node-gpu when it
 * is installed and works, WebGPU through Dawn, otherwise the fast CPU path), folders on disk, image decoding, the
 * weight cache, data sets, fast.ai's terminal output. Re-exports @fastts/core's API, so a Node app imports
 * everything from here.
 *
 * Importing it binds the Node platform into core (see `configure`): the backend is chosen on first use, pretrained
 * weights come from the cache (downloaded on first use), learners save to disk, training runs data-parallel on the
 * wasm backend, fits print fast.ai's progress bar and epoch table, and Ctrl-C stops a fit with a checkpoint.
 * The platform's parts (trainer, probes, downloader, interrupts) are in `@fastts/node-gpu/platform`.
 * @packageDocumentation
 */
import './platform/bind.js';

export * from '@fastts/core';

// ---- the platform's defaults and the backend
export { configure, nodeDefaults, type NodeDefaults } from './platform/binding.js';
export {
  setupBackend,
  activeBackend,
  type SetupBackendOptions,
  type BackendReport,
  type NodeBackendName,
} from './backend/setup.js';
export { BackendSetupError, DataParallelError } from './backend/errors.js';
export { GpuBackendUnavailableError, CudaUnavailableError, WebGpuUnavailableError } from './backend/gpu/errors.js';

// ---- data on disk, data sets, plots
export { fromFolder, ImageDataLoaders, ImageDataBunch, loadImageBatch } from './data/index.js';
export { decodeImageFile } from './data/decode.js';
export { savePlot, showBatch, svgToPng, type ShowBatchPngOptions } from './data/render.js';
export {
  untarData,
  URLs,
  listDatasets,
  datasetPaths,
  UnknownDatasetError,
  DatasetUnavailableError,
  DatasetHomeError,
  DatasetIntegrityError,
  ArchiveError,
  type UntarDataOptions,
  type DatasetKey,
  type DatasetSpec,
  type DatasetPaths,
} from './datasets/index.js';

// ---- pretrained weights
export {
  loadPretrained,
  fetchPretrained,
  pickPretrained,
  type LoadPretrainedOptions,
  type PretrainedFiles,
} from './weights/load.js';
export { fasttsHome, pretrainedDir, isOffline } from './weights/cache.js';
export { PretrainedUnavailableError, DownloadError, ChecksumError, CachedWeightsError } from './weights/errors.js';

// ---- storage and terminal output
export { nodeStorage } from './platform/storage.js';
export { terminalReporter, type TerminalReporterOptions } from './platform/terminal-reporter.js';

// ---- inference through ONNX Runtime
export {
  loadOnnxLearner,
  OnnxLearner,
  onnxRuntimeAvailable,
  OnnxRuntimeUnavailableError,
  OnnxModelMissingError,
  chooseInferenceEngine,
  type LoadOnnxLearnerOptions,
  type OnnxDevice,
  type OnnxPredictBatchOptions,
  type InferenceEngine,
} from './onnx/index.js';

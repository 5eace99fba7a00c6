/**
 * `@fastts/core/platform` — what platform packages (and advanced users) build on: the platform port that binds a
 * platform's defaults into core, the data plumbing a platform implements (`DataPlatform`: listing folders and
 * decoding images) and the loaders built on it, the learners' storage, training steps (single-backend,
 * micro-batched, the hook for data-parallel ones), the optimizer, checkpoint codecs, and rendering primitives
 * (image grids as SVG, PNG encoding) that platforms rasterize.
 * @packageDocumentation
 */
import './gradients.js';

// ---- the platform port
export {
  registerPlatform,
  updatePlatform,
  currentPlatform,
  platformReady,
  registerPretrainedLoader,
  type Platform,
  type InterruptScope,
  type PretrainedLoader,
} from './learner/platform.js';
export {
  registerTrainStepFactory,
  createCnnModel,
  type VisionTrainStepFactory,
  type VisionTrainStepRequest,
} from './learner/vision.js';

// ---- data: what a platform implements, and the loaders built on it
export { assertDecodedImage, type ImageProbe } from './data/image.js';
export { IMAGE_EXTENSIONS, isImageFileName, type DataPlatform, type DirEntry } from './data/platform.js';
export { fromFolderWith, imageDataLoadersFor } from './data/from-folder.js';
export { loadImageBatchWith, type LoadImageBatchOptions } from './data/load-images.js';
export { ImageCache, ImageDataset } from './data/dataset.js';
export { scanFolder, type ScannedFile, type ScanResult } from './data/scan.js';
export { splitByRandPct } from './data/split.js';
export { mapLimit } from './data/concurrency.js';
export { createRng, logUniform, permutation, randBool, randInt, randomSeed, uniform, type Rng } from './data/rng.js';

// ---- storage and checkpoints
export { MemoryStorage, joinPath, type LearnerStorage } from './learner/storage.js';
export { encodeCheckpoint, decodeCheckpoint } from './learner/checkpoint.js';

// ---- training steps and the optimizer
export {
  SingleBackendStep,
  trainingBytesPerImage,
  WASM_STEP_BUDGET,
  type SingleBackendStepOptions,
  type TrainStep,
  type TrainStepContext,
  type StepResult,
} from './learner/train-step.js';
export {
  chunkedGradients,
  chunkRanges,
  type ChunkedGradients,
  type ChunkedGradientsOptions,
  type HeadMode,
} from './learner/chunked-gradients.js';
export { AdamW, type AdamWOptions, type OptimParam, type OptimizerState } from './learner/optimizer.js';
export { lrRange, evenMults, isLrSlice, formatLr } from './learner/lr.js';
export { metricName } from './learner/metrics.js';
export { sortCallbacks, runEvent } from './learner/callback.js';
export { SmoothenValue } from './learner/recorder.js';
export { formatEpochCells } from './learner/progress.js';
export { formatTime, formatStat, formatTableHeader, formatTableRow } from './learner/format.js';
export { lrSuggestions, numericalGradient } from './learner/suggest.js';
export { argMax } from './learner/tensor-utils.js';

// ---- rendering primitives (platforms rasterize the SVG)
export * from './render/index.js';
export { confusionMatrixSvg, type ConfusionMatrixSvgOptions } from './interpret/confusion.js';

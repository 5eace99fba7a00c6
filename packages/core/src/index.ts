/**
 * @fastts/core — the fast.ai image-classification workflow on @tensorflow/tfjs-core, backend-agnostic.
 * No Node `fs`, no DOM: platforms (@fastts/node-gpu, @fastts/webgpu) hand it decoded pixels and storage functions.
 *
 * The root is fast.ai's user-facing API: data, transforms, the model zoo's names, the Learner and its recipe,
 * callbacks, metrics and interpretation. What platforms and advanced users build on lives in subpaths:
 * `@fastts/core/platform` (the platform port, data/storage/training-step plumbing, rendering primitives),
 * `/nn` (modules and layers), `/models` (the zoo's classes and preprocessing), `/weights` (weight-file readers),
 * `/transforms` (augmentation internals), `/kernels` (the kernel registry), `/onnx` (ONNX export).
 * @packageDocumentation
 */
import './gradients.js';

export { VERSION } from './version.js';

// ---- data (fast.ai's DataBunch / ImageDataLoaders; the platforms bind `fromFolder` to their files)
export { DataBunch, type DataBunchParts } from './data/databunch.js';
export { DataLoader, type Batch, type DataLoaderOptions, type IterateOptions } from './data/dataloader.js';
export type { FromFolderOptions, ImageDataLoadersApi } from './data/from-folder.js';
export type { DecodedImage, DecodeTarget } from './data/image.js';
export {
  DataError,
  FolderNotFoundError,
  ImageDecodeError,
  InvalidOptionError,
  NoImagesError,
  NotAFolderError,
  type DataWarning,
  type DataWarningCode,
  type SkippedFile,
} from './data/errors.js';

// ---- transforms
export {
  getTransforms,
  NO_AUGMENTATION,
  type Augmentation,
  type GetTransformsOptions,
  type TransformSet,
} from './transforms/augmentation.js';
export { imagenetStats, type ChannelStats } from './transforms/normalize.js';

// ---- models: names of the zoo (`models.resnet34`)
export { models, listArchs, getArch, UnknownArchError, type ArchSpec } from './models/registry.js';

// ---- the Learner and fast.ai's recipe
export { Learner } from './learner/learner.js';
export type { AbortSignalLike } from './learner/platform.js';
export type { LearnerOptions, FitOptions, FitOneCycleOptions } from './learner/options.js';
export type { LrFindOptions, LrFindResult } from './learner/lr-finder.js';
export type { GetPredsOptions, TtaOptions, Predictions, Prediction } from './learner/predict.js';
export type { FitLearner, RecorderState, ValidationStats } from './learner/types.js';
export type { LearnerData, LearnerDataLoader } from './learner/data.js';
export { DatasetType } from './learner/data.js';
export {
  cnnLearner,
  visionLearner,
  ConvLearner,
  loadLearner,
  VisionLearner,
  InferenceLearner,
  type CnnLearnerOptions,
  type VisionData,
  type VisionExportInfo,
  type ImageLearnerDataLoader,
} from './learner/vision.js';
export type { LearnerExportOptions, ExportFormat } from './onnx/learner-export.js';
export { slice, type LrSlice, type LrSpec } from './learner/lr.js';
export {
  crossEntropyFlat,
  crossEntropyLoss,
  type CrossEntropyOptions,
  type LossFunction,
  type Reduction,
} from './learner/loss.js';
export { accuracy, errorRate, defineMetric, type Metric } from './learner/metrics.js';
export {
  OneCycleSchedule,
  annealingCos,
  annealingExp,
  annealingLinear,
  annealingNo,
  type Annealer,
  type OneCycleOptions,
  type OneCyclePoint,
} from './learner/schedule.js';
export type { LrSuggestions } from './learner/suggest.js';

// ---- callbacks (fast.ai's events; the one-cycle scheduler and LR finder are callbacks too)
export { CALLBACK_EVENTS, type Callback, type CallbackEvent, type CallbackHandler } from './learner/callback.js';
export { ParamScheduler, OneCycleScheduler, type HyperSchedule, type HyperSchedules } from './learner/param-scheduler.js';
export { LRFinder } from './learner/lr-finder.js';
export { Recorder, type EpochRow } from './learner/recorder.js';
export { ProgressCallback, tableReporter, type ProgressEvent, type ProgressReporter } from './learner/progress.js';
export { CSVLogger, JSONLLogger } from './learner/loggers.js';
export { SaveModelCallback, EarlyStoppingCallback, type TrackerOptions, type TrackMode } from './learner/tracker.js';
export {
  LearnerError,
  LearningRateError,
  HyperParameterError,
  LossInputError,
  NonFiniteLossError,
  FitInterruptedError,
  CheckpointError,
  LearnerConfigError,
} from './learner/errors.js';

// ---- interpretation
export {
  ClassificationInterpretation,
  InterpretationError,
  type InterpretationInput,
  type ConfusedPair,
  type TopLoss,
  type FromLearnerOptions,
  type PlotTopLossesOptions,
} from './interpret/index.js';

/**
 * `learner`: fast.ai's training recipe — Learner (fit, fitOneCycle, lrFind, freeze/unfreeze, getPreds, TTA,
 * save/load/export), AdamW, one-cycle schedules, discriminative learning rates, losses, metrics, callbacks.
 */
export { Learner } from './learner.js';
export type { AbortSignalLike } from './platform.js';
export type { LearnerOptions, FitOptions, FitOneCycleOptions } from './options.js';
export type { LrFindOptions, LrFindResult } from './lr-finder.js';
export type { GetPredsOptions, TtaOptions, Predictions, Prediction } from './predict.js';
export type { FitLearner, RecorderState, ValidationStats } from './types.js';
export type { LearnerData, LearnerDataLoader } from './data.js';
export { DatasetType } from './data.js';
export {
  registerPlatform,
  updatePlatform,
  currentPlatform,
  platformReady,
  type Platform,
  type InterruptScope,
} from './platform.js';
export { argMax } from './tensor-utils.js';
export {
  SingleBackendStep,
  trainingBytesPerImage,
  WASM_STEP_BUDGET,
  type SingleBackendStepOptions,
  type TrainStep,
  type TrainStepContext,
  type StepResult,
} from './train-step.js';
export {
  chunkedGradients,
  chunkRanges,
  type ChunkedGradients,
  type ChunkedGradientsOptions,
  type HeadMode,
} from './chunked-gradients.js';
export { AdamW, type AdamWOptions, type OptimParam, type OptimizerState } from './optimizer.js';
export {
  OneCycleSchedule,
  annealingCos,
  annealingExp,
  annealingLinear,
  annealingNo,
  type Annealer,
  type OneCycleOptions,
  type OneCyclePoint,
} from './schedule.js';
export { slice, lrRange, evenMults, isLrSlice, formatLr, type LrSlice, type LrSpec } from './lr.js';
export { crossEntropyFlat, crossEntropyLoss, type CrossEntropyOptions, type LossFunction, type Reduction } from './loss.js';
export { accuracy, errorRate, defineMetric, metricName, type Metric } from './metrics.js';
export { CALLBACK_EVENTS, sortCallbacks, runEvent, type Callback, type CallbackEvent, type CallbackHandler } from './callback.js';
export { ParamScheduler, OneCycleScheduler, type HyperSchedule, type HyperSchedules } from './param-scheduler.js';
export { LRFinder } from './lr-finder.js';
export { Recorder, SmoothenValue, type EpochRow } from './recorder.js';
export { ProgressCallback, tableReporter, formatEpochCells, type ProgressEvent, type ProgressReporter } from './progress.js';
export { CSVLogger, JSONLLogger } from './loggers.js';
export { SaveModelCallback, EarlyStoppingCallback, type TrackerOptions, type TrackMode } from './tracker.js';
export { formatTime, formatStat, formatTableHeader, formatTableRow } from './format.js';
export { lrSuggestions, numericalGradient, type LrSuggestions } from './suggest.js';
export { MemoryStorage, joinPath, type LearnerStorage } from './storage.js';
export { encodeCheckpoint, decodeCheckpoint } from './checkpoint.js';
export {
  LearnerError,
  LearningRateError,
  HyperParameterError,
  LossInputError,
  NonFiniteLossError,
  FitInterruptedError,
  CheckpointError,
  LearnerConfigError,
} from './errors.js';
export {
  cnnLearner,
  visionLearner,
  ConvLearner,
  createCnnModel,
  registerPretrainedLoader,
  registerTrainStepFactory,
  type PretrainedLoader,
  type VisionTrainStepFactory,
  type VisionTrainStepRequest,
  loadLearner,
  VisionLearner,
  InferenceLearner,
  type CnnLearnerOptions,
  type VisionData,
  type VisionExportInfo,
  type ImageLearnerDataLoader,
} from './vision.js';

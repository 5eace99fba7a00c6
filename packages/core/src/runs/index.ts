/**
 * `runs`: the run directory format — the types, file names and version of what `fastts train` writes and the
 * dashboard reads, the text of each file, and tolerant readers (unfinished last lines, older field names).
 */
export {
  RUN_FORMAT_VERSION,
  RUN_FILES,
  type Phase,
  type RunStatus,
  type MetricsLine,
  type BatchLine,
  type ResumePoint,
  type StatusFile,
  type RunConfig,
  type InterpItem,
  type Interpretation,
  type Prediction,
} from './format.js';
export { runConfigText, statusText, jsonLine, jsonLines } from './write.js';
export {
  num,
  str,
  obj,
  parseJsonl,
  toMetrics,
  toBatches,
  toInterpretation,
  datasetName,
  configClasses,
  plannedEpochs,
  runDate,
  bestAccuracy,
  decideStatus,
  STALE_MS,
  type EpochMetrics,
  type BatchRecord,
  type ReadStatus,
  type StatusEvidence,
} from './read.js';
export {
  QUEUE_NAME,
  JOB_NAMES,
  SWEEP_KEYS,
  sweepCombinations,
  newJobGroupId,
  redactRedisUrl,
  type SweepKey,
  type TrainJobOptions,
  type TrainJobData,
  type PredictShardData,
  type PredictMergeData,
  type TrainJobProgress,
  type ShardJobProgress,
} from './queue.js';

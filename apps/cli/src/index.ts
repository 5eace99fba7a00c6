/**
 * `fastts` — the command line of fastts, also usable as a library (run a command line in-process, reuse the
 * run-directory readers and writers).
 * @packageDocumentation
 */
export { main, createProgram, reportFailure, cliVersion, DEFAULT_UNFREEZE_LR, type CommandHandlers } from './program.js';
export { defaultHandlers } from './commands/index.js';
export { CliError, UsageError, InterruptedError, ExitCode, formatError, toCliError, oneLine } from './errors.js';
export type { ExitCodeValue, CliErrorOptions, FormatErrorOptions } from './errors.js';
export { parseLr, formatLr, parseFraction, parsePositiveInt, parseNonNegativeInt, BACKENDS } from './args.js';
export type { LrSpec, BackendChoice } from './args.js';
export {
  RUN_FILES,
  MetricsLog,
  readMetrics,
  predictionsCsv,
  defaultRunDir,
  prepareOutputDir,
  prepareOutputFile,
  timestamp,
} from './run-dir.js';
export type { EpochMetrics, Phase, Prediction } from './run-dir.js';
export { csvRow, csvField, parseCsv } from './csv.js';
export { Reporter, processIo, colorEnabled, makeStyle } from './output.js';
export type { CliIo, OutStream, Style, GlobalOptions } from './output.js';
export type * from './options.js';
export { fitProgress, RunLogCallback, type RunLogOptions } from './fit-progress.js';
export { writeInterpretation, type InterpretationSummary, type WriteInterpretationOptions } from './interpretation.js';
export { findExport, loadExport, EXPORT_FILE } from './model-file.js';
export { lrFindSvg, type LrMarks } from './plots.js';
export { writeThumbnails, THUMB_SIZE } from './thumbs.js';
export { RunStatusFile, writeJson, writeFileAtomic, appendJsonLine } from './run-dir.js';
export type { RunStatus, StatusFile, ResumePoint } from './run-dir.js';
export type { TrainConfig, TrainResult } from './commands/train.js';

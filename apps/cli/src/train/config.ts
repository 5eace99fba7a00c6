/**
 * `fastts train`'s settings: a new run's `config.json` from the command line, or, with `--resume`, the stopped
 * run's config and where it continues.
 */
import { join, resolve } from 'node:path';
import { getArch, slice, type LrSpec as LearnerLr, type NodeDefaults } from '@fastts/node-gpu';
import { formatLr, type BackendChoice, type LrSpec } from '../args.js';
import type { RunConfig } from '@fastts/core/runs';
import { resolveDataSettings, type DataSettings } from '../data.js';
import { UsageError } from '../errors.js';
import type { TrainOptions } from '../options.js';
import { displayPath, requireDir } from '../paths.js';
import {
  defaultRunDir,
  readJson,
  RUN_FILES,
  runState,
  type EpochMetrics,
  type Prediction,
  type ResumePoint,
} from '../run-dir.js';
import { cliVersion } from '../version.js';

/** `--parallel`: data-parallel training on worker threads (`auto`: when the backend is wasm). */
export type ParallelChoice = NonNullable<NodeDefaults['parallel']>;

/** Folder (inside the run directory) of the training checkpoints: `epoch-<n>.safetensors`, `interrupted.safetensors`. */
export const CHECKPOINT_DIR = 'checkpoints';
/** Name of the checkpoint written on Ctrl-C. */
export const INTERRUPTED_CHECKPOINT = 'interrupted';
/** The exported model's file inside `model/`. */
export const EXPORT_FILE = 'export.safetensors';

/** `config.json` of a training run. */
export interface TrainConfig extends DataSettings, Omit<RunConfig, keyof DataSettings> {
  command: 'train';
  fastts: string;
  createdAt: string;
  arch: string;
  pretrained: boolean;
  epochs: number;
  /** `--lr` as typed (`3e-3`, `1e-5:3e-4`, `:3e-3`), or null for fast.ai's default slice(3e-3). */
  lr: string | null;
  unfreezeEpochs: number;
  unfreezeLr: string;
  backend: BackendChoice;
  threads?: number;
  /** `--parallel`: data-parallel training on worker threads (auto: with wasm and 2+ threads). */
  parallel?: ParallelChoice;
  rows: number;
  topLosses: number;
  /** Filled in once the data is read. */
  classes: string[];
  nTrain: number;
  nValid: number;
  nTest: number;
  /** Training batches over both phases. */
  totalIters: number;
  /** The backend that actually ran. */
  backendUsed?: string;
}

/** The one JSON object `fastts train --json` prints. */
export interface TrainResult {
  runDir: string;
  arch: string;
  classes: string[];
  valid: { loss: number; accuracy: number };
  epochs: EpochMetrics[];
  test: Prediction[];
  backend: string;
  seconds: number;
}

/** Converts a command-line learning rate into the Learner's. */
export function toLearnerLr(lr: LrSpec): LearnerLr {
  if (typeof lr === 'number') return lr;
  return lr.lo === undefined ? slice(lr.hi) : slice(lr.lo, lr.hi);
}

/** What a `fastts train` invocation runs: a new run, or a stopped one resumed. */
export interface TrainSettings {
  config: TrainConfig;
  runDir: string;
  /** Where a resumed run continues (undefined for a new run). */
  resume: ResumePoint | undefined;
  /** For a resumed run: how it stopped, in words (`its process 1234 is gone`, `stopped by Ctrl-C`, ...). */
  stopped?: string;
}

/** The settings of a new run from the command line (nothing is written yet). */
export function newRunSettings(dataDirArg: string | undefined, options: TrainOptions, cwd: string): TrainSettings {
  if (dataDirArg === undefined) {
    throw new UsageError('missing the data folder', {
      hint: 'give it (fastts train <dataDir>), or continue a stopped run with --resume <runDir>',
    });
  }
  if (options.epochs === 0 && options.unfreezeEpochs === 0) {
    throw new UsageError('--epochs and --unfreeze-epochs are both 0: there is nothing to train', {
      hint: 'give --epochs 1 or more',
    });
  }
  const data = resolveDataSettings(dataDirArg, options, cwd);
  const spec = getArch(options.arch);
  const config: TrainConfig = {
    command: 'train',
    fastts: cliVersion(),
    createdAt: new Date().toISOString(),
    ...data,
    arch: spec.name,
    pretrained: options.pretrained,
    epochs: options.epochs,
    lr: options.lr === undefined ? null : formatLr(options.lr),
    unfreezeEpochs: options.unfreezeEpochs,
    unfreezeLr: formatLr(options.unfreezeLr),
    backend: options.backend,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    parallel: options.parallel,
    rows: options.rows,
    topLosses: options.topLosses,
    classes: [],
    nTrain: 0,
    nValid: 0,
    nTest: 0,
    totalIters: 0,
  };
  return { config, runDir: resolve(cwd, options.out ?? defaultRunDir(spec.name, cwd)), resume: undefined };
}

/**
 * The settings of `--resume <run>`: its config (the backend options may change, the recipe may not) and its resume
 * point. A run can be resumed when it stopped in any way — Ctrl-C, a failure, or a process that died without a word
 * (SIGKILL, a crash: status.json still says `running` for a pid that is gone) — and a checkpoint exists.
 */
export function resumeSettings(
  runArg: string,
  dataDirArg: string | undefined,
  options: TrainOptions,
  cwd: string,
): TrainSettings {
  const runDir = requireDir(runArg, cwd, 'run folder', 'give a run folder written by fastts train (runs/<timestamp>-<arch>)');
  const config = readJson<TrainConfig>(join(runDir, RUN_FILES.config), 'run config');
  const state = runState(runDir);
  if (state.status === 'running' && !options.takeOver) {
    const pid = state.file!.pid;
    throw new UsageError(`run '${runArg}' is still running (process ${pid})`, {
      hint: `stop it first (Ctrl-C where it runs, or kill -INT ${pid}), then resume it`,
    });
  }
  if (!state.resume) {
    throw new UsageError(`run '${runArg}' has no checkpoint to resume from`, {
      hint:
        state.status === 'finished'
          ? 'it finished; start a new run (fastts train <dataDir>) to train more'
          : 'it stopped before its first epoch ended; start it again (fastts train <dataDir>)',
    });
  }
  if (dataDirArg !== undefined)
    config.dataDir = resolveDataSettings(dataDirArg, { ...config, test: config.test ?? 'test' }, cwd).dataDir;
  // Where tensors run may change on resume; the recipe may not.
  config.backend = options.backend;
  if (options.threads !== undefined) config.threads = options.threads;
  config.parallel = options.parallel;
  requireDir(
    config.dataDir,
    cwd,
    'data folder of the run',
    'it moved: give its new location, fastts train <dataDir> --resume <runDir>',
  );
  const f = state.file!;
  const stopped = state.processGone
    ? `its process ${f.pid} is gone (killed or crashed) since ${f.updatedAt}`
    : f.status === 'failed'
      ? `it failed: ${f.error ?? 'no message'}`
      : (f.error ?? 'it was interrupted');
  return {
    config,
    runDir,
    resume: state.resume,
    stopped: `${stopped}; resuming from ${displayPath(runDir, resolve(runDir, state.resume.checkpoint))}`,
  };
}

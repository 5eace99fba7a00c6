/** Options of the Learner, of its fits and of `fitOneCycle`. */
import type { Module } from '../nn/module.js';
import type { Callback } from './callback.js';
import type { LrSpec } from './lr.js';
import type { LossFunction } from './loss.js';
import type { Metric } from './metrics.js';
import type { AbortSignalLike } from './platform.js';
import type { ProgressReporter } from './progress.js';
import type { OneCycleOptions } from './schedule.js';
import type { LearnerStorage } from './storage.js';
import type { TrainStep } from './train-step.js';

/** Options of the `Learner` constructor. */
export interface LearnerOptions {
  /** Default: flattened cross-entropy. */
  lossFunc?: LossFunction;
  /** Metrics shown after the losses in the epoch table (e.g. `[accuracy]`, or one metric: `accuracy`). */
  metrics?: Metric | Metric[];
  /** Weight decay (decoupled). Default 0.01. */
  wd?: number;
  /** Weight decay on BatchNorm and bias parameters too. Default true (fast.ai v1). */
  wdBnBias?: boolean;
  /** Adam beta2. Default 0.99. */
  beta2?: number;
  /** Adam eps. Default 1e-5. */
  eps?: number;
  /** Keep BatchNorm layers trainable in frozen groups. Default true (fast.ai `train_bn`). */
  trainBn?: boolean;
  /** Layer groups (lists of modules) for discriminative lrs and freezing. Default: the whole model as one group. */
  layerGroups?: Module[][];
  /** Callbacks used by every fit. */
  callbacks?: Callback[];
  /**
   * Reporter of progress (epoch table, batches); shorthand for adding a `ProgressCallback`. Default: the
   * platform's (on Node: fast.ai's progress bar and epoch table in the terminal); `null` for none.
   */
  reporter?: ProgressReporter | null;
  /** No progress output at all (same as `reporter: null`). Default false. */
  quiet?: boolean;
  /** Working folder for saves, exports and logs (paths joined with `/`). Default `.`. */
  path?: string;
  /** Sub-folder of `path` for `save`/`load`. Default `models`. */
  modelDir?: string;
  /** File functions for save/load/export and the file loggers. Default: the platform's (on Node: the file system). */
  storage?: LearnerStorage;
  /** The training step strategy. Default: a `SingleBackendStep` with `microBatch`. */
  trainStep?: TrainStep;
  /**
   * Largest number of images whose gradients are computed at once (the batch is split and the gradients
   * accumulated), or `'auto'` (default) to size chunks to the backend's memory. Ignored with `trainStep`.
   */
  microBatch?: number | 'auto';
  /** What `export` records so that `loadLearner` can rebuild the model and its input pipeline. */
  exportInfo?: Record<string, unknown>;
}

/** Options of `Learner.fit`. */
export interface FitOptions {
  /** Weight decay for this fit (default: the Learner's). */
  wd?: number;
  /** Extra callbacks for this fit only. */
  callbacks?: Callback[];
  /**
   * Stops training at the end of the current batch when aborted, saving a checkpoint. Default: the platform's
   * Ctrl-C handling (on Node, the first Ctrl-C stops the fit this way; see `configure({ interrupts })`).
   */
  signal?: AbortSignalLike;
  /** Checkpoint name written on interruption (in `modelDir`). Default `interrupted`. */
  checkpointName?: string;
  /**
   * Resume a fit at this epoch (fast.ai `start_epoch`): epochs `startEpoch..nEpoch-1` run and schedules continue
   * where they were at that epoch (e.g. after `load('interrupted')`). Default 0.
   */
  startEpoch?: number;
}

/** Options of `Learner.fitOneCycle` (fast.ai `fit_one_cycle`). */
export interface FitOneCycleOptions extends FitOptions, OneCycleOptions {
  /** Maximum learning rate(s). Default `slice(3e-3)` (fast.ai v1 `defaults.lr`). */
  maxLr?: LrSpec;
}

/** Internal settings of one fit (what `fit`, `fitOneCycle` and `lrFind` differ in). */
export interface RunFitOptions extends FitOptions {
  /** Validate after each epoch. */
  validate: boolean;
  /** What a non-finite loss or gradient does: throw `NonFiniteLossError`, or stop the fit (lrFind). */
  nonFinite: 'throw' | 'stop';
  /** Write a checkpoint when interrupted. Default true. */
  checkpointOnInterrupt?: boolean;
}

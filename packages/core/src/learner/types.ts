/**
 * What callbacks see of a Learner during a fit. A leaf module: the callbacks (Recorder, progress, schedulers, the
 * LR finder) depend on these interfaces, the Learner implements them, and nothing here imports the Learner.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { LearnerData } from './data.js';
import type { LossFunction } from './loss.js';
import type { AdamW } from './optimizer.js';

/** One row of the epoch table. */
export interface EpochRow {
  /** Epoch index within the fit (0-based, as fast.ai prints it). */
  epoch: number;
  /** Smoothed training loss at the end of the epoch (what fast.ai shows as `train_loss`). */
  trainLoss: number;
  /** Mean validation loss, `undefined` without a validation set. */
  validLoss: number | undefined;
  /** Metric values by column name, in the Learner's metric order. */
  metrics: Record<string, number>;
  /** Wall time of the epoch in seconds. */
  seconds: number;
}

/** Validation loss and metric values. */
export interface ValidationStats {
  loss: number;
  metrics: number[];
}

/** What the Learner's Recorder holds (see `Recorder`). */
export interface RecorderState {
  /** Raw loss per training batch. */
  readonly losses: readonly number[];
  /** Smoothed loss per training batch. */
  readonly smoothLosses: readonly number[];
  /** Learning rate of each group, per training batch. */
  readonly lrs: readonly (readonly number[])[];
  /** Momentum of the last group, per training batch. */
  readonly moms: readonly number[];
  /** One row per epoch. */
  readonly rows: readonly EpochRow[];
  /** Column names of the table: `epoch train_loss valid_loss <metrics> time`. */
  readonly names: readonly string[];
  /** The smoothed training loss so far in this fit. */
  readonly smoothLoss: number;
  /** The last epoch row, if any. */
  readonly lastRow: EpochRow | undefined;
}

/**
 * The Learner as a callback sees it: the training state of the current fit (epoch, batch, loss, the batch being
 * processed), the model, data and optimizer, and the controls that stop a fit. `Learner` implements it.
 */
export interface FitLearner {
  readonly data: LearnerData;
  readonly model: Module;
  readonly lossFunc: LossFunction;
  /** The optimizer: schedulers set its learning rates and momentums (`opt.setHypers`). */
  readonly opt: AdamW;
  readonly recorder: RecorderState;
  /** Working folder of saves, exports and logs. */
  readonly path: string;
  /** Epoch index within the current fit. */
  readonly epoch: number;
  /** Epochs of the current fit. */
  readonly nEpoch: number;
  /** Batch index within the current phase (train or valid). */
  readonly iter: number;
  /** Batches of the current phase. */
  readonly nIter: number;
  /** Training batches done in the current fit (counting from `startEpoch`'s first batch when resuming). */
  readonly trainIter: number;
  /** Whether the current phase is training. */
  readonly training: boolean;
  /** Loss of the last training batch. */
  readonly loss: number;
  /** The batch being processed (valid during batch events). */
  readonly xb: tf.Tensor4D | undefined;
  readonly yb: tf.Tensor1D | undefined;
  /** Validation results of the last epoch. */
  readonly lastValidation: ValidationStats | undefined;
  /** Total epochs trained by this Learner (saved with checkpoints). */
  readonly epochsTrained: number;
  /** The error that ended the fit, if any (for `afterFit` handlers). */
  readonly fitError: unknown;
  /** Whether the data has a validation set. */
  hasValidation(): boolean;
  /** Metric column names. */
  metricNames(): string[];
  /** Stops after the current epoch (fast.ai `CancelTrainException` at epoch end). */
  stopAfterEpoch(reason: string): void;
  /** Stops at the end of the current batch, skipping validation (fast.ai `CancelFitException`). */
  cancelFit(reason: string): void;
  /** Saves the training state as `<path>/<modelDir>/<name>.safetensors`; returns the path. */
  save(name: string): Promise<string>;
  /** Loads a state written by `save`. */
  load(name: string, opts?: { withOpt?: boolean; strict?: boolean }): Promise<void>;
}

/**
 * fast.ai's learning-rate finder as a callback (`LRFinder`): the learning rate grows exponentially batch after
 * batch while the smoothed loss is recorded, until it diverges. `learn.lrFind()` runs a fit with it and restores
 * the training state afterwards ({@link captureTrainingState}).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { Callback } from './callback.js';
import { HyperParameterError } from './errors.js';
import type { AbortSignalLike } from './platform.js';
import type { AdamW } from './optimizer.js';
import { annealingExp } from './schedule.js';
import { lrSuggestions, type LrSuggestions } from './suggest.js';
import type { FitLearner } from './types.js';

/** Options of `Learner.lrFind` (and of {@link LRFinder}, which ignores `wd` and `signal`). */
export interface LrFindOptions {
  /** Default 1e-7. */
  startLr?: number;
  /** Default 10. */
  endLr?: number;
  /** Number of batches of the sweep. Default 100. */
  numIt?: number;
  /** Stop when the smoothed loss exceeds 4x its minimum. Default true. */
  stopDiv?: boolean;
  wd?: number;
  signal?: AbortSignalLike;
}

/** The result of `Learner.lrFind`. */
export interface LrFindResult {
  /** Learning rate (of the last layer group) per batch. */
  lrs: number[];
  /** Smoothed loss per batch (what fast.ai plots). */
  losses: number[];
  /** Suggested learning rates. */
  suggestions: LrSuggestions;
}

/**
 * Sweeps the learning rate exponentially from `startLr` to `endLr` over `numIt` training batches (every layer group
 * gets the same rate), records the last group's rate and the smoothed loss after each batch, and cancels the fit
 * after `numIt` batches or when the smoothed loss exceeds 4x its minimum (`stopDiv`).
 */
export class LRFinder implements Callback {
  readonly name = 'LRFinder';
  readonly order = -20;
  readonly startLr: number;
  readonly endLr: number;
  readonly numIt: number;
  readonly stopDiv: boolean;
  /** Learning rate (last group) per recorded batch. */
  readonly lrs: number[] = [];
  /** Smoothed loss per recorded batch. */
  readonly losses: number[] = [];
  private best = Number.POSITIVE_INFINITY;

  constructor(opts: Omit<LrFindOptions, 'wd' | 'signal'> = {}) {
    this.startLr = opts.startLr ?? 1e-7;
    this.endLr = opts.endLr ?? 10;
    this.numIt = opts.numIt ?? 100;
    this.stopDiv = opts.stopDiv ?? true;
    if (!(this.startLr > 0 && this.endLr > this.startLr)) {
      throw new HyperParameterError(`lrFind: need 0 < startLr < endLr, got ${this.startLr}, ${this.endLr}`);
    }
    if (!Number.isInteger(this.numIt) || this.numIt < 2)
      throw new HyperParameterError(`lrFind: numIt must be an integer >= 2, got ${this.numIt}`);
  }

  /** Epochs a fit needs to reach `numIt` batches with `batchesPerEpoch`. */
  epochsFor(batchesPerEpoch: number): number {
    return Math.ceil(this.numIt / Math.max(1, batchesPerEpoch));
  }

  beforeBatch(learn: FitLearner): void {
    learn.opt.setHypers({ lr: annealingExp(this.startLr, this.endLr, learn.trainIter / this.numIt) });
  }

  afterBatch(learn: FitLearner): void {
    if (!learn.training || !Number.isFinite(learn.loss)) return;
    const smooth = learn.recorder.smoothLoss;
    this.lrs.push(learn.opt.lrs[learn.opt.lrs.length - 1]!);
    this.losses.push(smooth);
    if (smooth < this.best) this.best = smooth;
    if (learn.trainIter + 1 >= this.numIt) learn.cancelFit('lrFind: done');
    else if (this.stopDiv && (smooth > 4 * this.best || !Number.isFinite(smooth))) learn.cancelFit('lrFind: the loss diverged');
  }

  /** The recorded curve and the suggested learning rates. */
  result(): LrFindResult {
    return { lrs: [...this.lrs], losses: [...this.losses], suggestions: lrSuggestions(this.lrs, this.losses, this.numIt) };
  }
}

/**
 * Copies every parameter and buffer of `model` and the optimizer's state; `restore()` puts them back exactly (and
 * frees the copies). What `lrFind` uses to leave the Learner as it found it.
 */
export function captureTrainingState(model: Module, opt: AdamW): { restore(): void } {
  const saved = new Map<tf.Variable, tf.Tensor>();
  for (const [, p] of model.namedParameters()) saved.set(p, tf.clone(p));
  for (const [, b] of model.namedBuffers()) saved.set(b, tf.clone(b));
  const optState = opt.stateDict();
  return {
    restore() {
      for (const [v, t] of saved) {
        v.assign(t);
        t.dispose();
      }
      saved.clear();
      opt.loadStateDict(optState);
      tf.dispose(Object.values(optState.tensors));
    },
  };
}

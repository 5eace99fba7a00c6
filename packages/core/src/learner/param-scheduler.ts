/**
 * Hyper-parameter scheduling as a callback (fast.ai v2 `ParamScheduler`), and the one-cycle policy built on it
 * (fast.ai `OneCycleScheduler`; `fitOneCycle` is `fit` with this callback).
 */
import type { Callback } from './callback.js';
import { OneCycleSchedule, type OneCycleOptions } from './schedule.js';
import type { FitLearner } from './types.js';

/**
 * A hyper-parameter's value at training batch `iter` of the fit (0-based, counted from the first batch of the
 * fit's epoch 0 even when resuming at `startEpoch`): one number for every layer group, or one per group.
 */
export type HyperSchedule = (iter: number) => number | readonly number[];

/** The optimizer hyper-parameters a {@link ParamScheduler} can drive. */
export interface HyperSchedules {
  /** Learning rate(s). */
  lr?: HyperSchedule;
  /** Momentum(s) (Adam beta1). */
  mom?: HyperSchedule;
}

/**
 * Sets the optimizer's hyper-parameters from schedules before every training batch, and at the start of the fit
 * (so a fit resumed at `startEpoch` starts where the schedule was). fast.ai v2's `ParamScheduler`, with schedules
 * indexed by training batch rather than by the fraction of training done.
 */
export class ParamScheduler implements Callback {
  readonly name: string = 'ParamScheduler';
  readonly order = -20;

  constructor(readonly scheds: HyperSchedules) {}

  /** Sets the values of batch `iter`. */
  protected apply(learn: FitLearner, iter: number): void {
    const { lr, mom } = this.scheds;
    learn.opt.setHypers({ ...(lr ? { lr: lr(iter) } : {}), ...(mom ? { mom: mom(iter) } : {}) });
  }

  beforeFit(learn: FitLearner): void {
    this.apply(learn, learn.trainIter);
  }

  beforeBatch(learn: FitLearner): void {
    if (learn.training) this.apply(learn, learn.trainIter);
  }
}

/**
 * fast.ai's one-cycle policy as a callback: per batch, each layer group's learning rate goes by cosine from
 * `maxLr/divFactor` up to its `maxLr` over `pctStart` of the `nIter` batches, then down to `maxLr/finalDiv`;
 * momentum goes `moms[0] -> moms[1] -> moms[0]` (see {@link OneCycleSchedule}).
 */
export class OneCycleScheduler extends ParamScheduler {
  override readonly name = 'OneCycleScheduler';
  readonly schedule: OneCycleSchedule;

  /**
   * @param maxLrs maximum learning rate of each layer group
   * @param nIter training batches of the whole cycle (every epoch of the fit)
   */
  constructor(maxLrs: readonly number[], nIter: number, opts: OneCycleOptions = {}) {
    const schedule = new OneCycleSchedule(Math.max(1, nIter), opts);
    super({ lr: (k) => schedule.lrsAt(k, maxLrs), mom: (k) => schedule.at(k).mom });
    this.schedule = schedule;
  }
}

/**
 * The Recorder: every Learner has one. It keeps the per-batch losses, learning rates and momentums and the
 * per-epoch table rows (fast.ai `Recorder`).
 */
import type { Callback } from './callback.js';
import type { EpochRow, FitLearner, RecorderState } from './types.js';

export type { EpochRow } from './types.js';

/** Exponentially weighted moving average with debiasing (fast.ai `SmoothenValue`, beta 0.98). */
export class SmoothenValue {
  private n = 0;
  private mov = 0;
  /** The smoothed value (NaN before the first `add`). */
  smooth = Number.NaN;
  constructor(readonly beta = 0.98) {}
  /** Adds a value and returns the new smoothed value. */
  add(v: number): number {
    this.n += 1;
    this.mov = this.beta * this.mov + (1 - this.beta) * v;
    this.smooth = this.mov / (1 - this.beta ** this.n);
    return this.smooth;
  }
  /** Starts over. */
  reset(): void {
    this.n = 0;
    this.mov = 0;
    this.smooth = Number.NaN;
  }
}

/**
 * Records training: `losses` (raw per batch), `smoothLosses`, `lrs` (per batch, per group), `moms`,
 * `iterations`, and `rows` (one {@link EpochRow} per epoch). Reset at the start of every fit, as in fast.ai.
 */
export class Recorder implements Callback, RecorderState {
  readonly name = 'Recorder';
  readonly order = -10;
  losses: number[] = [];
  smoothLosses: number[] = [];
  /** Learning rate of each group, per training batch. */
  lrs: number[][] = [];
  moms: number[] = [];
  rows: EpochRow[] = [];
  /** Column names of the table: `epoch train_loss valid_loss <metrics> time`. */
  names: string[] = [];
  private readonly smoother = new SmoothenValue(0.98);
  private epochStart = 0;

  beforeFit(learn: FitLearner): void {
    this.losses = [];
    this.smoothLosses = [];
    this.lrs = [];
    this.moms = [];
    this.rows = [];
    this.smoother.reset();
    this.names = ['epoch', 'train_loss', ...(learn.hasValidation() ? ['valid_loss'] : []), ...learn.metricNames(), 'time'];
  }

  beforeEpoch(): void {
    this.epochStart = Date.now();
  }

  afterStep(learn: FitLearner): void {
    const loss = learn.loss;
    this.losses.push(loss);
    this.smoothLosses.push(this.smoother.add(loss));
    this.lrs.push(learn.opt ? [...learn.opt.lrs] : []);
    this.moms.push(learn.opt ? learn.opt.moms[learn.opt.moms.length - 1]! : Number.NaN);
  }

  afterEpoch(learn: FitLearner): void {
    const stats = learn.lastValidation;
    const metrics: Record<string, number> = {};
    learn.metricNames().forEach((n, i) => {
      metrics[n] = stats?.metrics[i] ?? Number.NaN;
    });
    this.rows.push({
      epoch: learn.epoch,
      trainLoss: this.smoother.smooth,
      validLoss: stats?.loss,
      metrics,
      seconds: (Date.now() - this.epochStart) / 1000,
    });
  }

  /** The smoothed training loss so far in this fit. */
  get smoothLoss(): number {
    return this.smoother.smooth;
  }

  /** The last epoch row, if any. */
  get lastRow(): EpochRow | undefined {
    return this.rows[this.rows.length - 1];
  }

  /** The learning rate of the last layer group per batch (what fast.ai plots). */
  lastGroupLrs(): number[] {
    return this.lrs.map((l) => l[l.length - 1] ?? Number.NaN);
  }

  /** The cells of a row as the table shows them (without formatting), matching {@link Recorder.names}. */
  rowValues(row: EpochRow): Array<number | undefined> {
    return this.names.slice(0, -1).map((n) => {
      if (n === 'epoch') return row.epoch;
      if (n === 'train_loss') return row.trainLoss;
      if (n === 'valid_loss') return row.validLoss;
      return row.metrics[n];
    });
  }
}

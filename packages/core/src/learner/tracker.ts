/**
 * Callbacks that track a monitored value per epoch: save the best model, stop early (fast.ai `TrackerCallback`).
 */
import type { Callback } from './callback.js';
import { LearnerConfigError } from './errors.js';
import type { Learner } from './learner.js';

/** `'min'` for losses, `'max'` for metrics like accuracy; `'auto'` picks `'min'` when the name contains "loss". */
export type TrackMode = 'auto' | 'min' | 'max';

/** Options shared by the trackers. */
export interface TrackerOptions {
  /** The table column to watch. Default `'valid_loss'`. */
  monitor?: string;
  /** Default `'auto'`. */
  mode?: TrackMode;
  /** Minimum change that counts as an improvement. Default 0. */
  minDelta?: number;
}

/** The value of column `monitor` in the last epoch row. */
function monitoredValue(learn: Learner, monitor: string): number {
  const row = learn.recorder.lastRow;
  if (!row) return Number.NaN;
  if (monitor === 'train_loss') return row.trainLoss;
  if (monitor === 'valid_loss') return row.validLoss ?? Number.NaN;
  if (monitor in row.metrics) return row.metrics[monitor]!;
  throw new LearnerConfigError(
    `cannot monitor "${monitor}": the table has ${learn.recorder.names.filter((n) => n !== 'time' && n !== 'epoch').join(', ')}`,
  );
}

abstract class TrackerCallback implements Callback {
  abstract readonly name: string;
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  readonly minDelta: number;
  best = Number.NaN;

  constructor(opts: TrackerOptions = {}) {
    this.monitor = opts.monitor ?? 'valid_loss';
    const mode = opts.mode ?? 'auto';
    this.mode = mode === 'auto' ? (this.monitor.includes('loss') ? 'min' : 'max') : mode;
    this.minDelta = Math.abs(opts.minDelta ?? 0);
  }

  beforeFit(): void {
    this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  /** Reads the monitored value; true when it improved on the best by more than `minDelta` (and records it). */
  protected improved(learn: Learner): { value: number; improved: boolean } {
    const value = monitoredValue(learn, this.monitor);
    const better = this.mode === 'min' ? value + this.minDelta < this.best : value - this.minDelta > this.best;
    if (better) this.best = value;
    return { value, improved: better };
  }
}

/**
 * Saves the model (`learn.save(name)`) when the monitored value improves (or every epoch with `every: 'epoch'`,
 * as `<name>_<epoch>`), and loads the best one back at the end of the fit (fast.ai `SaveModelCallback`).
 */
export class SaveModelCallback extends TrackerCallback {
  readonly name = 'SaveModelCallback';
  readonly order = 70;
  readonly every: 'improvement' | 'epoch';
  readonly fileName: string;
  private saved = false;

  constructor(opts: TrackerOptions & { every?: 'improvement' | 'epoch'; name?: string } = {}) {
    super(opts);
    this.every = opts.every ?? 'improvement';
    this.fileName = opts.name ?? 'bestmodel';
  }

  override beforeFit(): void {
    super.beforeFit();
    this.saved = false;
  }

  async afterEpoch(learn: Learner): Promise<void> {
    if (this.every === 'epoch') {
      await learn.save(`${this.fileName}_${learn.epoch}`);
      return;
    }
    const { improved } = this.improved(learn);
    if (improved) {
      await learn.save(this.fileName);
      this.saved = true;
    }
  }

  async afterFit(learn: Learner): Promise<void> {
    if (this.every === 'improvement' && this.saved && !learn.fitError) await learn.load(this.fileName);
  }
}

/** Stops training when the monitored value has not improved for more than `patience` epochs (fast.ai). */
export class EarlyStoppingCallback extends TrackerCallback {
  readonly name = 'EarlyStoppingCallback';
  readonly order = 80;
  readonly patience: number;
  private wait = 0;
  /** The epoch after which training stopped, if it did. */
  stoppedEpoch: number | undefined;

  constructor(opts: TrackerOptions & { patience?: number } = {}) {
    super(opts);
    this.patience = opts.patience ?? 0;
  }

  override beforeFit(): void {
    super.beforeFit();
    this.wait = 0;
    this.stoppedEpoch = undefined;
  }

  afterEpoch(learn: Learner): void {
    const { improved } = this.improved(learn);
    if (improved) {
      this.wait = 0;
      return;
    }
    this.wait += 1;
    if (this.wait > this.patience) {
      this.stoppedEpoch = learn.epoch;
      learn.stopAfterEpoch(`no improvement in ${this.monitor} for ${this.wait} epochs`);
    }
  }
}

/**
 * Progress reporting: the Learner emits events to a reporter function; the CLI prints them, a browser renders them.
 */
import type { Callback } from './callback.js';
import { formatStat, formatTableHeader, formatTableRow, formatTime } from './format.js';
import type { EpochRow, FitLearner } from './types.js';

/** What a reporter receives while a Learner fits. */
export type ProgressEvent =
  | { type: 'begin'; names: string[]; header: string; nEpoch: number }
  | { type: 'batch'; phase: 'train' | 'valid'; epoch: number; nEpoch: number; iter: number; nIter: number; loss?: number }
  | { type: 'epoch'; row: EpochRow; cells: string[]; line: string }
  | { type: 'end'; rows: EpochRow[] };

/** A function that shows progress (print, render, post to a UI). */
export type ProgressReporter = (event: ProgressEvent) => void;

/** The cells of an epoch row, formatted as fast.ai prints them. */
export function formatEpochCells(names: readonly string[], row: EpochRow): string[] {
  return names.map((n) => {
    if (n === 'epoch') return formatStat(row.epoch, true);
    if (n === 'train_loss') return formatStat(row.trainLoss);
    if (n === 'valid_loss') return formatStat(row.validLoss);
    if (n === 'time') return formatTime(row.seconds);
    return formatStat(row.metrics[n]);
  });
}

/**
 * Reports fitting progress to `reporter`: a `begin` event with the table header, `batch` events (every batch),
 * an `epoch` event with the formatted table line after each epoch, and `end`.
 */
export class ProgressCallback implements Callback {
  readonly name = 'ProgressCallback';
  readonly order = 50;
  constructor(private readonly reporter: ProgressReporter) {}

  beforeFit(learn: FitLearner): void {
    const names = learn.recorder.names;
    this.reporter({ type: 'begin', names: [...names], header: formatTableHeader(names), nEpoch: learn.nEpoch });
  }

  afterBatch(learn: FitLearner): void {
    this.reporter({
      type: 'batch',
      phase: learn.training ? 'train' : 'valid',
      epoch: learn.epoch,
      nEpoch: learn.nEpoch,
      iter: learn.iter,
      nIter: learn.nIter,
      ...(learn.training ? { loss: learn.loss } : {}),
    });
  }

  afterEpoch(learn: FitLearner): void {
    const row = learn.recorder.lastRow;
    if (!row) return;
    const names = learn.recorder.names;
    const cells = formatEpochCells(names, row);
    this.reporter({ type: 'epoch', row, cells, line: formatTableRow(names, cells) });
  }

  afterFit(learn: FitLearner): void {
    this.reporter({ type: 'end', rows: [...learn.recorder.rows] });
  }
}

/**
 * A reporter printing fast.ai's epoch table line by line through `print` (e.g. `console.log`):
 * ```
 * epoch     train_loss  valid_loss  accuracy  time
 * 0         0.512071    0.072203    0.969697  00:41
 * ```
 */
export function tableReporter(print: (line: string) => void): ProgressReporter {
  return (e) => {
    if (e.type === 'begin') print(e.header);
    else if (e.type === 'epoch') print(e.line);
  };
}

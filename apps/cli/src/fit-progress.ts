/**
 * What `fastts train` shows while fitting: on a terminal a progress bar per epoch (stderr), and fast.ai's epoch
 * table (`epoch  train_loss  valid_loss  accuracy  error_rate  time`) on the human channel; plus the callback that
 * writes `metrics.jsonl` and `batches.jsonl` as the epochs and batches end.
 */
import { join } from 'node:path';
import { terminalReporter, type Callback, type Learner, type ProgressReporter } from '@fastts/node-gpu';
import type { Reporter } from './output.js';
import { appendJsonLine, MetricsLog, RUN_FILES, type EpochMetrics, type Phase } from './run-dir.js';

/**
 * The Node platform's terminal output (a progress bar per epoch on a terminal, the epoch table) on the CLI's
 * channels: the table on the human channel (stdout, or stderr under `--json`) after a blank line, the bar on stderr.
 */
export function fitProgress(reporter: Reporter, label: string): ProgressReporter {
  const show = terminalReporter({
    label,
    print: (line) => reporter.out(line),
    stream: reporter.io.stderr,
    bar: reporter.interactive,
  });
  return (e) => {
    if (e.type === 'begin') reporter.out();
    show(e);
  };
}

/** Options of {@link RunLogCallback}. */
export interface RunLogOptions {
  runDir: string;
  phase: Phase;
  /** Training batches done in the run before this fit (batches.jsonl counts over the whole run). */
  iterOffset: number;
}

/**
 * Writes `metrics.jsonl` (one line per epoch: epoch, phase, train_loss, valid_loss, accuracy, error_rate, seconds)
 * and `batches.jsonl` (one line per training batch: iter, epoch, phase, loss, lr, mom) from the Learner's Recorder.
 */
export class RunLogCallback implements Callback {
  readonly name = 'RunLog';
  readonly order = 70;
  private readonly metrics: MetricsLog;
  private readonly batchesPath: string;
  /** Metrics rows written by this callback. */
  readonly rows: EpochMetrics[] = [];
  /** Training batches seen by this callback. */
  iters = 0;

  constructor(private readonly opts: RunLogOptions) {
    this.metrics = new MetricsLog(opts.runDir);
    this.batchesPath = join(opts.runDir, RUN_FILES.batches);
  }

  afterBatch(learn: Learner): void {
    if (!learn.training) return;
    const r = learn.recorder;
    const lrs = r.lrs[r.lrs.length - 1];
    appendJsonLine(this.batchesPath, {
      iter: this.opts.iterOffset + this.iters,
      epoch: learn.epoch,
      phase: this.opts.phase,
      loss: r.losses[r.losses.length - 1] ?? learn.loss,
      lr: lrs ? lrs[lrs.length - 1] : null,
      lrs: lrs ?? null,
      mom: r.moms[r.moms.length - 1] ?? null,
    });
    this.iters += 1;
  }

  afterEpoch(learn: Learner): void {
    const row = learn.recorder.lastRow;
    if (!row) return;
    const accuracy = row.metrics.accuracy ?? Number.NaN;
    const metrics: EpochMetrics = {
      epoch: row.epoch,
      phase: this.opts.phase,
      train_loss: row.trainLoss,
      valid_loss: row.validLoss ?? Number.NaN,
      accuracy,
      error_rate: row.metrics.error_rate ?? 1 - accuracy,
      seconds: Math.round(row.seconds * 1000) / 1000,
    };
    this.metrics.append(metrics);
    this.rows.push(metrics);
  }
}

/**
 * What `fastts train` shows while fitting: on a terminal a progress bar per epoch (stderr), and fast.ai's epoch
 * table (`epoch  train_loss  valid_loss  accuracy  error_rate  time`) on the human channel; plus the callback that
 * writes `metrics.jsonl` and `batches.jsonl` as the epochs and batches end.
 */
import cliProgress from 'cli-progress';
import type { Callback, Learner, ProgressEvent, ProgressReporter } from '@fastts/node-gpu';
import type { Reporter } from './output.js';
import { appendJsonLine, MetricsLog, RUN_FILES, type EpochMetrics, type Phase } from './run-dir.js';
import { join } from 'node:path';

/** Prints the epoch table and drives a progress bar per epoch. */
export class FitProgress {
  private bar: cliProgress.SingleBar | undefined;
  private barEpoch = -1;

  constructor(
    private readonly reporter: Reporter,
    /** Shown in the bar: `frozen` / `unfrozen` / `lr-find`. */
    private readonly label: string,
  ) {}

  /** The function to hand to the Learner (`ProgressCallback`). */
  readonly report: ProgressReporter = (e: ProgressEvent) => {
    switch (e.type) {
      case 'begin':
        this.reporter.out();
        this.reporter.out(e.header);
        break;
      case 'batch':
        this.onBatch(e);
        break;
      case 'epoch':
        this.stopBar();
        this.reporter.out(e.line);
        break;
      case 'end':
        this.stopBar();
        break;
    }
  };

  private onBatch(e: Extract<ProgressEvent, { type: 'batch' }>): void {
    if (!this.reporter.interactive) return;
    if (!this.bar || this.barEpoch !== e.epoch) {
      this.stopBar();
      this.barEpoch = e.epoch;
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.reporter.io.stderr as unknown as NodeJS.WritableStream,
          format: `${this.label} epoch {ep} {stage} [{bar}] {value}/{total} {loss} | {duration_formatted} < {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
          barsize: 24,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(e.nIter, 0, this.payload(e));
    }
    if (this.bar.getTotal() !== e.nIter) this.bar.setTotal(e.nIter);
    this.bar.update(e.iter + 1, this.payload(e));
  }

  private payload(e: Extract<ProgressEvent, { type: 'batch' }>): Record<string, string> {
    return {
      ep: `${e.epoch + 1}/${e.nEpoch}`,
      stage: e.phase === 'train' ? 'train' : 'valid',
      loss: e.loss !== undefined && Number.isFinite(e.loss) ? `loss ${e.loss.toFixed(4)}` : '',
    };
  }

  private stopBar(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
    }
  }
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

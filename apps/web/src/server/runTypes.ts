/**
 * The shapes the dashboard reads from a run directory (see apps/web/RUN_FORMAT.md for the files and who writes
 * them). These types are shared by the server (reading) and the pages (rendering); they hold plain data only.
 */

/**
 * Where a run stands. `interrupted`: stopped before the end (Ctrl-C, or its process is gone while status.json
 * still says running). `unknown` only when nothing says and the files cannot tell.
 */
export type RunStatus = 'running' | 'finished' | 'failed' | 'interrupted' | 'unknown';

/** One line of `metrics.jsonl`: fast.ai's epoch table row. */
export interface EpochMetrics {
  epoch: number;
  phase: string;
  train_loss: number | null;
  valid_loss: number | null;
  accuracy: number | null;
  error_rate: number | null;
  seconds: number | null;
}

/** One line of `batches.jsonl`: a training batch's loss and the optimizer schedule at that step. */
export interface BatchRecord {
  /** Global iteration number across the whole run (0-based). */
  iter: number;
  epoch: number;
  phase: string | null;
  loss: number;
  /** Learning rate of the last layer group (the head). */
  lr: number | null;
  /** Momentum (Adam beta1). */
  mom: number | null;
}

/** A validation item with what the model made of it (from `interpretation.json`). */
export interface InterpItem {
  /** Index in the validation set order. */
  index: number;
  /** The item's file name (relative to the data folder, or a base name); for display only. */
  file: string;
  /** Thumbnail path relative to the run directory (e.g. `thumbs/valid/12.jpg`), when written. */
  thumb: string | null;
  actual: number;
  pred: number;
  loss: number;
  /** Probability the model gave its prediction. */
  prob: number;
  /** Probability the model gave the actual class (what fast.ai's plot_top_losses shows), when known. */
  probActual: number | null;
}

/** The run's interpretation: confusion matrix and per-item results. */
export interface Interpretation {
  classes: string[];
  /** `confusion[actual][predicted]` counts. */
  confusion: number[][];
  items: InterpItem[];
  /** Indices into `items` of the top losses, largest first. */
  topLosses: number[];
}

/** One row of `test_predictions.csv` (plus its thumbnail when written). */
export interface TestPrediction {
  file: string;
  label: string;
  probability: number;
  thumb: string | null;
}

/** What the runs list shows of a run. */
export interface RunSummary {
  id: string;
  arch: string | null;
  dataset: string | null;
  classes: string[];
  bestAccuracy: number | null;
  /** Epochs completed (metrics lines). */
  epochs: number;
  /** Epochs planned, when the config says. */
  totalEpochs: number | null;
  status: RunStatus;
  /** ISO date the run started. */
  date: string;
  /** Why it failed or stopped, when it did. */
  error: string | null;
}

/** Everything the run page shows. */
export interface RunDetail extends RunSummary {
  /** An interrupted run with a checkpoint that `fastts train --resume` continues from. */
  resumable: boolean;
  config: Record<string, unknown>;
  metrics: EpochMetrics[];
  batches: BatchRecord[];
  /** Iterations planned in total, when known: the x-axis of the live curves. */
  totalIters: number | null;
  interpretation: Interpretation | null;
  testPredictions: TestPrediction[];
  /** Which of the rendered PNGs exist. */
  images: { batch: boolean; confusionMatrix: boolean; topLosses: boolean };
  /** Files of the exported model (relative to the run dir, e.g. `model/model.json`). */
  modelFiles: string[];
  /** Problems met while reading (malformed lines...), shown on the page instead of failing it. */
  warnings: string[];
}

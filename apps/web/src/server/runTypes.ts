/**
 * The shapes the dashboard shows of a run directory. The run format itself (files, lines, config, status) is
 * `@fastts/core/runs`, shared with the CLI that writes it; these add what the pages need (summary, detail).
 */

export type { EpochMetrics, BatchRecord, InterpItem, Interpretation } from '@fastts/core/runs';
import type { BatchRecord, EpochMetrics, Interpretation, ReadStatus } from '@fastts/core/runs';

/**
 * Where a run stands. `interrupted`: stopped before the end (Ctrl-C, or its process is gone while status.json
 * still says running). `unknown` only when nothing says and the files cannot tell.
 */
export type RunStatus = ReadStatus;

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

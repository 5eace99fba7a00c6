/**
 * The run directory format: what `fastts train` writes for each run, what the dashboard reads, what the browser's
 * Train page saves and what queue workers write on a shared folder. One set of types, file names and a version;
 * the writers (`apps/cli`, the dashboard's upload) and the readers (`./read.ts`) both use them.
 *
 * ```
 * <run>/config.json          RunConfig: the recipe, the data, the classes (formatVersion)
 *      /status.json          StatusFile: running | finished | failed | interrupted, pid + host, the resume point
 *      /metrics.jsonl        one MetricsLine per epoch (fast.ai's epoch table), appended as epochs end
 *      /batches.jsonl        one BatchLine per training batch (live curves)
 *      /interpretation.json  Interpretation: confusion matrix, per-item validation results, top losses
 *      /test_predictions.csv file,label,probability
 *      /model/export.safetensors (and export.onnx)   the exported model
 *      /checkpoints/epoch-<n>.safetensors, interrupted.safetensors   what --resume continues from
 *      /queue.json           runs of a queue worker: job id, sweep id, each attempt (host, pid, resumed from)
 *      /batch.png, confusion_matrix.png, top_losses.png, thumbs/{valid,test}/<i>.jpg
 * ```
 * JSON files are replaced atomically; JSON Lines are appended a whole line at a time, so a reader may see a run
 * while it is written (and must ignore an unfinished last line).
 */

/** The format's version, recorded as `formatVersion` in config.json. Runs without one are version 1. */
export const RUN_FORMAT_VERSION = 2;

/** File names inside a run directory. */
export const RUN_FILES = {
  config: 'config.json',
  status: 'status.json',
  metrics: 'metrics.jsonl',
  batches: 'batches.jsonl',
  interpretation: 'interpretation.json',
  testPredictions: 'test_predictions.csv',
  model: 'model',
  checkpoints: 'checkpoints',
  batch: 'batch.png',
  confusionMatrix: 'confusion_matrix.png',
  topLosses: 'top_losses.png',
  lrFind: 'lr_find.png',
} as const;

/** Training phases: the body frozen (head trained), then the whole network with discriminative learning rates. */
export type Phase = 'frozen' | 'unfrozen';

/** A run's state as status.json records it. */
export type RunStatus = 'running' | 'finished' | 'failed' | 'interrupted';

/** One line of `metrics.jsonl`, as written: the results of one epoch (fast.ai's epoch table row). */
export interface MetricsLine {
  /** Epoch index within its phase, from 0 (as fast.ai's table numbers them). */
  epoch: number;
  phase: Phase;
  /** fast.ai's smoothed training loss at the end of the epoch. */
  train_loss: number;
  /** Validation loss at the end of the epoch. */
  valid_loss: number;
  accuracy: number;
  /** 1 - accuracy. */
  error_rate: number;
  /** Wall-clock seconds the epoch took (training + validation). */
  seconds: number;
}

/** One line of `batches.jsonl`, as written: a training batch's loss and the optimizer's schedule at that step. */
export interface BatchLine {
  /** Training batch number over the whole run, from 0 (continues across phases and resumes). */
  iter: number;
  /** Epoch within the phase. */
  epoch: number;
  phase: Phase;
  loss: number;
  /** Learning rate of the last layer group (the head). */
  lr: number | null;
  /** Learning rate of every layer group. */
  lrs?: number[] | null;
  /** Momentum (Adam beta1). */
  mom: number | null;
}

/** Where a stopped run continues (in status.json): what `fastts train --resume` starts from. */
export interface ResumePoint {
  phase: Phase;
  /** The epoch (within the phase) to start again from. */
  epoch: number;
  /** The checkpoint the weights and optimizer state come from, relative to the run folder. */
  checkpoint: string;
  /** Training batches of the epochs before `epoch` (batches.jsonl keeps that many lines and continues the count). */
  iters: number;
}

/** Content of `status.json`. */
export interface StatusFile {
  status: RunStatus;
  /** The process writing the run. */
  pid?: number;
  /** The machine it runs on: a pid means something only there (runs on a shared folder). */
  host?: string;
  startedAt?: string;
  updatedAt?: string;
  finishedAt?: string;
  /** Why it failed or stopped, one line. */
  error?: string;
  /** Training batches planned over both phases (the x-axis of the live curves). */
  totalIters?: number;
  /** The checkpoint to resume from (relative to the run folder), for interrupted runs. */
  checkpoint?: string;
  /** Where `fastts train --resume` continues: updated after every epoch while running, dropped when finished. */
  resume?: ResumePoint;
}

/**
 * Content of `config.json`: the recipe and the data. Written by `fastts train` (`source` absent or `cli`) and by the
 * dashboard for runs trained in a browser (`source: 'browser'`, which names its data set instead of a folder).
 */
export interface RunConfig {
  /** {@link RUN_FORMAT_VERSION} when written. */
  formatVersion?: number;
  command?: 'train';
  source?: 'cli' | 'browser';
  /** The fastts version that wrote it. */
  fastts?: string;
  createdAt: string;
  arch: string;
  /** The data folder (CLI runs). */
  dataDir?: string;
  /** The data set's name (browser runs, and queue jobs naming a registered data set). */
  dataset?: string;
  train?: string;
  valid?: string;
  validPct?: number;
  test?: string;
  size?: number;
  bs?: number;
  seed?: number;
  pretrained?: boolean;
  /** Epochs with the body frozen. */
  epochs: number;
  /** `--lr` as typed (`3e-3`, `1e-5:3e-4`, `:3e-3`), or null for fast.ai's default `slice(3e-3)`. */
  lr?: string | null;
  /** Epochs with the whole network unfrozen, after the frozen ones. */
  unfreezeEpochs: number;
  unfreezeLr?: string;
  backend?: string;
  /** The backend that actually ran. */
  backendUsed?: string;
  threads?: number;
  parallel?: 'auto' | 'on' | 'off';
  rows?: number;
  topLosses?: number;
  classes: string[];
  nTrain?: number;
  nValid?: number;
  nTest?: number;
  /** Training batches over both phases. */
  totalIters?: number;
  /** Whether the training set was augmented (getTransforms). */
  augment?: boolean;
  /** The sweep a queued run belongs to. */
  sweep?: string;
}

/** A validation item with what the model made of it (in `interpretation.json`). */
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

/** Content of `interpretation.json`: confusion matrix and per-item results. */
export interface Interpretation {
  classes: string[];
  /** `confusion[actual][predicted]` counts. */
  confusion: number[][];
  items: InterpItem[];
  /** Indices into `items` of the top losses, largest first. */
  topLosses: number[];
}

/** One row of `test_predictions.csv`. */
export interface Prediction {
  /** The image path as reported to the user. */
  file: string;
  /** The predicted class. */
  label: string;
  /** Softmax probability of the predicted class. */
  probability: number;
}

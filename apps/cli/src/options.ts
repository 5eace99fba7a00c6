/** The typed options of each command, as commander hands them to the actions. */
import type { BackendChoice, LrSpec } from './args.js';

/** Options selecting and shaping the data set (train, lr-find, show-batch). */
export interface DataOptions {
  /** Training folder name under the data folder (default `train`). */
  train: string;
  /** Validation folder name (default `valid`); ignored when `validPct` is set. */
  valid: string;
  /** Fraction of the training images to hold out as a seeded random validation split. */
  validPct?: number;
  /** Test folder name (default `test`); used when it exists. */
  test: string;
  /** `--test` was given explicitly: its folder must exist. */
  testRequired?: boolean;
  /** Side of the square images fed to the model, in pixels. */
  size: number;
  /** Batch size. */
  bs: number;
  /** Seed of the random split, shuffling and augmentation (random, and recorded, when not given). */
  seed?: number;
}

/** Options choosing where the tensors run. */
export interface BackendOptions {
  backend: BackendChoice;
  /** Worker threads for the CPU backends (default: what the backend finds best). */
  threads?: number;
}

/** Options every command accepts. */
export interface CommonOptions {
  json?: boolean;
  verbose?: boolean;
}

/** `fastts train`. */
export interface TrainOptions extends DataOptions, BackendOptions, CommonOptions {
  /**
   * With `resume`: take over a run whose status.json still says running (a queue worker resuming a job whose
   * previous worker died on another machine; the queue, not the pid, knows it is dead). Not a command-line option.
   */
  takeOver?: boolean;
  arch: string;
  epochs: number;
  lr?: LrSpec;
  unfreezeEpochs: number;
  unfreezeLr: LrSpec;
  /** Whether to start from ImageNet weights (`--no-pretrained` trains from scratch). */
  pretrained: boolean;
  /** Training-set augmentation (fast.ai `get_transforms()`); `--no-augment` turns it off. */
  augment: boolean;
  out?: string;
  resume?: string;
  /** Rows of the `batch.png` grid. */
  rows: number;
  /** Images in the `top_losses.png` grid. */
  topLosses: number;
  /** Data-parallel training on worker threads: auto (wasm and 2+ threads), on, off. */
  parallel: 'auto' | 'on' | 'off';
}

/** `fastts lr-find`. */
export interface LrFindOptions extends DataOptions, BackendOptions, CommonOptions {
  arch: string;
  pretrained: boolean;
  augment: boolean;
  startLr: number;
  endLr: number;
  numIt: number;
  out: string;
}

/** `fastts predict`. */
export interface PredictOptions extends BackendOptions, CommonOptions {
  /** Inference engine: ONNX Runtime on the run's export.onnx, tfjs on its weights, or auto (ONNX when possible). */
  engine?: 'auto' | 'onnx' | 'tfjs';
  csv?: boolean;
  tta?: boolean;
  top: number;
  bs: number;
}

/** `fastts interpret`. */
export interface InterpretOptions extends BackendOptions, CommonOptions {
  topLosses: number;
  minVal: number;
  data?: string;
  out?: string;
}

/** `fastts show-batch`. */
export interface ShowBatchOptions extends DataOptions, CommonOptions {
  rows: number;
  out: string;
  /** Which set to show: `train` (augmented) or `valid`. */
  ds: 'train' | 'valid';
  augment: boolean;
}

/** `fastts export`. */
export interface ExportOptions extends CommonOptions {
  out?: string;
  /** `safetensors` (weights + classes + preprocessing) or `onnx` (the network for ONNX Runtime). */
  format?: 'safetensors' | 'onnx';
}

/** `fastts models`. */
export type ModelsOptions = CommonOptions;

/** `fastts dashboard`. */
export interface DashboardOptions extends CommonOptions {
  /** The runs folder to show. */
  runs: string;
  port: number;
  host: string;
  /** FASTTS_HOME, whose weight cache the in-browser training reads. */
  home?: string;
  /** The access token (default: `FASTTS_DASHBOARD_TOKEN`, else a random one). */
  token?: string;
  /** `--no-auth`: no token (loopback only). */
  auth: boolean;
  /** The Redis of the workers (`--redis`, `FASTTS_REDIS_URL`): the Queue page. */
  redis?: string;
  /** Folder of the data sets the Queue page may submit. */
  dataRoot?: string;
}

/** Options of every queue command: where Redis is. */
export interface QueueOptions extends CommonOptions {
  /** The Redis URL (`--redis`, default `FASTTS_REDIS_URL`); may hold a password, never logged as given. */
  redis: string;
}

/** `fastts worker`. */
export interface WorkerOptions extends QueueOptions, BackendOptions {
  /** Jobs run at the same time. */
  concurrency: number;
  /** Milliseconds a job's lock lasts without renewal: a dead worker's job is retried after about this long. */
  lockDuration: number;
  /** Milliseconds between checks for stalled jobs (whose worker died). */
  stalledInterval: number;
}

/** `fastts submit train`: `fastts train`'s options, with lists for the swept ones. */
export interface SubmitTrainOptions extends QueueOptions {
  arch: string[];
  size: number[];
  lr?: string[];
  epochs: number[];
  unfreezeEpochs: number[];
  seed?: number[];
  unfreezeLr: LrSpec;
  train: string;
  valid: string;
  validPct?: number;
  test: string;
  bs: number;
  pretrained: boolean;
  augment: boolean;
  rows: number;
  topLosses: number;
  /** Folder of the run folders (`<runs>/<job id>`); must be shared with the workers. */
  runs: string;
  /** The run folder of a single job (not with a sweep). */
  out?: string;
  /** Job priority (1 is the highest; BullMQ's). */
  priority?: number;
  /** Attempts before a job fails for good. */
  attempts: number;
  /** Follow the jobs until they end. */
  wait?: boolean;
}

/** `fastts submit predict`. */
export interface SubmitPredictOptions extends QueueOptions {
  /** Images per shard (one child job each). */
  shardSize: number;
  /** Folder of the shards' CSVs and the merged predictions.csv (default `<run>/predictions/<flow id>`). */
  out?: string;
  attempts: number;
  wait?: boolean;
}

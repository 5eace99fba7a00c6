/**
 * The Learner: a model, its data, a loss, an optimizer and callbacks, with fast.ai's training loop
 * (`fit`, `fitOneCycle`, `lrFind`), freezing by layer groups, predictions and checkpoints.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm, type Module } from '../nn/index.js';
import { type Callback, type CallbackEvent, runEvent, sortCallbacks } from './callback.js';
import { decodeCheckpoint, encodeCheckpoint, storedToTensor } from './checkpoint.js';
import type { Batch, DatasetType, LearnerData, LearnerDataLoader } from './data.js';
import {
  CheckpointError,
  FitInterruptedError,
  HyperParameterError,
  LearnerConfigError,
  LearnerError,
  NonFiniteLossError,
} from './errors.js';
import { learnerToOnnx, resolveExportOptions, type LearnerExportOptions } from '../onnx/learner-export.js';
import { crossEntropyLoss, type LossFunction } from './loss.js';
import { isLrSlice, lrRange, type LrSpec, slice } from './lr.js';
import { type Metric, metricName } from './metrics.js';
import { AdamW, type OptimizerState } from './optimizer.js';
import { type AbortSignalLike, currentPlatform, platformReady } from './platform.js';
import { ProgressCallback, type ProgressReporter } from './progress.js';
import { Recorder } from './recorder.js';
import { annealingExp, OneCycleSchedule, type OneCycleOptions } from './schedule.js';
import { joinPath, type LearnerStorage } from './storage.js';
import { SingleBackendStep, type TrainStep, type TrainStepContext } from './train-step.js';
import { lrSuggestions, type LrSuggestions } from './suggest.js';
import { allFinite, argMax } from './tensor-utils.js';
import { ttaViews } from './tta.js';

export type { AbortSignalLike } from './platform.js';

/** Options of the {@link Learner} constructor. */
export interface LearnerOptions {
  /** Default: flattened cross-entropy. */
  lossFunc?: LossFunction;
  /** Metrics shown after the losses in the epoch table (e.g. `[accuracy]`, or one metric: `accuracy`). */
  metrics?: Metric | Metric[];
  /** Weight decay (decoupled). Default 0.01. */
  wd?: number;
  /** Weight decay on BatchNorm and bias parameters too. Default true (fast.ai v1). */
  wdBnBias?: boolean;
  /** Adam beta2. Default 0.99. */
  beta2?: number;
  /** Adam eps. Default 1e-5. */
  eps?: number;
  /** Keep BatchNorm layers trainable in frozen groups. Default true (fast.ai `train_bn`). */
  trainBn?: boolean;
  /** Layer groups (lists of modules) for discriminative lrs and freezing. Default: the whole model as one group. */
  layerGroups?: Module[][];
  /** Callbacks used by every fit. */
  callbacks?: Callback[];
  /**
   * Reporter of progress (epoch table, batches); shorthand for adding a {@link ProgressCallback}. Default: the
   * platform's (on Node: fast.ai's progress bar and epoch table in the terminal); `null` for none.
   */
  reporter?: ProgressReporter | null;
  /** No progress output at all (same as `reporter: null`). Default false. */
  quiet?: boolean;
  /** Working folder for saves, exports and logs (paths joined with `/`). Default `.`. */
  path?: string;
  /** Sub-folder of `path` for `save`/`load`. Default `models`. */
  modelDir?: string;
  /** File functions for save/load/export and the file loggers. Default: the platform's (on Node: the file system). */
  storage?: LearnerStorage;
  /** The training step strategy. Default: a {@link SingleBackendStep} with `microBatch`. */
  trainStep?: TrainStep;
  /**
   * Largest number of images whose gradients are computed at once (the batch is split and the gradients
   * accumulated), or `'auto'` (default) to size chunks to the backend's memory. Ignored with `trainStep`.
   */
  microBatch?: number | 'auto';
  /** What `export` records so that `loadLearner` can rebuild the model and its input pipeline. */
  exportInfo?: Record<string, unknown>;
}

/** Options of {@link Learner.fit}. */
export interface FitOptions {
  /** Weight decay for this fit (default: the Learner's). */
  wd?: number;
  /** Extra callbacks for this fit only. */
  callbacks?: Callback[];
  /**
   * Stops training at the end of the current batch when aborted, saving a checkpoint. Default: the platform's
   * Ctrl-C handling (on Node, the first Ctrl-C stops the fit this way; see `configure({ interrupts })`).
   */
  signal?: AbortSignalLike;
  /** Checkpoint name written on interruption (in `modelDir`). Default `interrupted`. */
  checkpointName?: string;
  /**
   * Resume a fit at this epoch (fast.ai `start_epoch`): epochs `startEpoch..nEpoch-1` run and schedules continue
   * where they were at that epoch (e.g. after `load('interrupted')`). Default 0.
   */
  startEpoch?: number;
}

/** Options of {@link Learner.fitOneCycle} (fast.ai `fit_one_cycle`). */
export interface FitOneCycleOptions extends FitOptions, OneCycleOptions {
  /** Maximum learning rate(s). Default `slice(3e-3)` (fast.ai v1 `defaults.lr`). */
  maxLr?: LrSpec;
}

/** Options of {@link Learner.lrFind}. */
export interface LrFindOptions {
  /** Default 1e-7. */
  startLr?: number;
  /** Default 10. */
  endLr?: number;
  /** Number of batches of the sweep. Default 100. */
  numIt?: number;
  /** Stop when the smoothed loss exceeds 4x its minimum. Default true. */
  stopDiv?: boolean;
  wd?: number;
  signal?: AbortSignalLike;
}

/** The result of {@link Learner.lrFind}. */
export interface LrFindResult {
  /** Learning rate (of the last layer group) per batch. */
  lrs: number[];
  /** Smoothed loss per batch (what fast.ai plots). */
  losses: number[];
  /** Suggested learning rates. */
  suggestions: LrSuggestions;
}

/** Options of {@link Learner.getPreds}. */
export interface GetPredsOptions {
  /** Which data set. Default `'valid'`. */
  ds?: DatasetType;
  /** fast.ai v1's `is_test=True`: the same as `ds: 'test'`. */
  isTest?: boolean;
  /** Also compute per-item losses (labelled sets only). */
  withLoss?: boolean;
  /** A loader to predict on instead of `ds`. */
  dl?: LearnerDataLoader;
}

/**
 * Predictions on a data set, in item order. Destructures like fast.ai's `preds, y = learn.get_preds()`:
 * `const [probs, targets] = await learn.getPreds()`.
 */
export interface Predictions extends Iterable<number[][] | number[]> {
  /** Softmax probabilities, one row per item. */
  probs: number[][];
  /** True class index per item (-1 for unlabelled test items). */
  targets: number[];
  /** Arg-max class index per item. */
  preds: number[];
  /** The items (file paths), in the same order. */
  items: string[];
  /** Cross-entropy per item (with `withLoss`, labelled items; NaN for unlabelled). */
  losses?: number[];
}

/** The result of {@link Learner.predict}. */
export interface Prediction {
  /** The predicted class name. */
  className: string;
  /** Its index. */
  index: number;
  /** Probability per class. */
  probs: number[];
}

/** Validation loss and metric values. */
export interface ValidationStats {
  loss: number;
  metrics: number[];
}

const CHECKPOINT_FORMAT = 'fastts-checkpoint';
const CHECKPOINT_VERSION = 1;
const EXPORT_FORMAT = 'fastts-export';

/** Metadata stored with `save`. */
interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  epoch: number;
  classes: readonly string[];
  optimizer?: OptimizerState['meta'];
  interrupted?: { epoch: number; batch: number };
}

/** Makes {@link Predictions} iterable as `[probs, targets]` (fast.ai's `preds, y`). */
function predictions(p: Omit<Predictions, typeof Symbol.iterator>): Predictions {
  return Object.defineProperty(p, Symbol.iterator, {
    enumerable: false,
    value: function* (this: Predictions) {
      yield this.probs;
      yield this.targets;
    },
  }) as Predictions;
}

/** Whether `v` is a learning-rate spec (a number, `slice(...)` or an array of numbers) rather than options. */
function isLrSpec(v: unknown): v is LrSpec {
  return typeof v === 'number' || Array.isArray(v) || isLrSlice(v);
}

/** Control flags set by callbacks and signals. */
interface FitControl {
  cancelFit: boolean;
  stopAfterEpoch: boolean;
  reason: string | undefined;
}

/**
 * fast.ai's Learner. Build one with `cnnLearner`/`visionLearner` for images, or directly from any
 * {@link Module} and {@link LearnerData}.
 */
export class Learner {
  readonly data: LearnerData;
  readonly model: Module;
  lossFunc: LossFunction;
  metrics: Metric[];
  wd: number;
  readonly trainBn: boolean;
  readonly layerGroups: Module[][];
  /** Callbacks used by every fit (the Recorder is added automatically). */
  callbacks: Callback[];
  readonly recorder = new Recorder();
  path: string;
  modelDir: string;
  storage: LearnerStorage | undefined;
  trainStep: TrainStep;
  exportInfo: Record<string, unknown>;
  /** The optimizer (created with the Learner, reset by `freezeTo`/`unfreeze` as in fast.ai v1). */
  opt: AdamW;

  // ---- state visible to callbacks during a fit
  /** Epoch index within the current fit. */
  epoch = 0;
  /** Epochs of the current fit. */
  nEpoch = 0;
  /** Batch index within the current phase (train or valid). */
  iter = 0;
  /** Batches of the current phase. */
  nIter = 0;
  /** Training batches done in the current fit. */
  trainIter = 0;
  /** Whether the current phase is training. */
  training = false;
  /** Loss of the last training batch. */
  loss = Number.NaN;
  /** The batch being processed (valid during batch events). */
  xb: tf.Tensor4D | undefined;
  yb: tf.Tensor1D | undefined;
  /** Validation results of the last epoch. */
  lastValidation: ValidationStats | undefined;
  /** Total epochs trained by this Learner (saved with checkpoints). */
  epochsTrained = 0;
  /** The error that ended the last fit, if any (for `afterFit` handlers). */
  fitError: unknown;
  /** Why the last fit stopped early, if it did (early stopping, lrFind divergence, ...). */
  stopReason: string | undefined;

  private control: FitControl = { cancelFit: false, stopAfterEpoch: false, reason: undefined };
  private readonly paramGroupOf = new Map<string, number>();
  private readonly paramByName = new Map<string, tf.Variable>();
  private readonly bnParams = new Set<string>();
  private readonly betas: { beta2: number; eps: number; wdBnBias: boolean };

  constructor(data: LearnerData, model: Module, opts: LearnerOptions = {}) {
    if (!data || !data.trainDl) throw new LearnerConfigError('Learner needs data with a trainDl (a DataBunch)');
    if (!(data.c >= 1) || data.classes.length !== data.c) {
      throw new LearnerConfigError(`Learner: the data has c=${data.c} but ${data.classes.length} class names`);
    }
    this.data = data;
    this.model = model;
    this.lossFunc = opts.lossFunc ?? crossEntropyLoss();
    this.metrics = opts.metrics === undefined ? [] : Array.isArray(opts.metrics) ? opts.metrics : [opts.metrics];
    this.wd = opts.wd ?? 0.01;
    this.trainBn = opts.trainBn ?? true;
    this.layerGroups = opts.layerGroups ?? [[model]];
    if (this.layerGroups.length === 0) throw new LearnerConfigError('Learner: layerGroups must not be empty');
    this.callbacks = [...(opts.callbacks ?? [])];
    const platform = currentPlatform();
    const reporter = opts.quiet || opts.reporter === null ? undefined : (opts.reporter ?? platform.reporter?.());
    if (reporter) this.callbacks.push(new ProgressCallback(reporter));
    this.path = opts.path ?? '.';
    this.modelDir = opts.modelDir ?? 'models';
    this.storage = opts.storage ?? platform.storage;
    this.trainStep = opts.trainStep ?? new SingleBackendStep(opts.microBatch !== undefined ? { microBatch: opts.microBatch } : {});
    this.exportInfo = opts.exportInfo ?? {};
    this.betas = { beta2: opts.beta2 ?? 0.99, eps: opts.eps ?? 1e-5, wdBnBias: opts.wdBnBias ?? true };
    this.indexParameters();
    this.opt = this.createOpt();
  }

  // ------------------------------------------------------------------------------------------------ groups

  /** Maps every parameter to its layer group; checks that each parameter is in exactly one group. */
  private indexParameters(): void {
    const idOf = new Map<tf.Variable, string>();
    for (const [name, p] of this.model.namedParameters()) {
      idOf.set(p, name);
      this.paramByName.set(name, p);
    }
    this.layerGroups.forEach((group, gi) => {
      for (const m of group) {
        for (const [, sub] of m.namedModules()) {
          const isBn = sub instanceof BatchNorm;
          for (const [, p] of sub.namedParameters()) {
            const name = idOf.get(p);
            if (name === undefined) throw new LearnerConfigError('Learner: a layer group holds a module that is not part of the model');
            const prev = this.paramGroupOf.get(name);
            if (prev !== undefined && prev !== gi) {
              throw new LearnerConfigError(`Learner: parameter "${name}" is in layer groups ${prev} and ${gi}`);
            }
            this.paramGroupOf.set(name, gi);
            if (isBn) this.bnParams.add(name);
          }
        }
      }
    });
    const orphans = [...this.paramByName.keys()].filter((n) => !this.paramGroupOf.has(n));
    if (orphans.length > 0) {
      throw new LearnerConfigError(
        `Learner: ${orphans.length} parameters belong to no layer group (e.g. "${orphans[0]}"): give layerGroups that cover the model`,
      );
    }
  }

  private createOpt(): AdamW {
    const groups = this.layerGroups.map(() => [] as { name: string; variable: tf.Variable; bnOrBias: boolean }[]);
    for (const [name, p] of this.paramByName) {
      groups[this.paramGroupOf.get(name)!]!.push({ name, variable: p, bnOrBias: this.bnParams.has(name) || /(^|\.)bias$/.test(name) });
    }
    return new AdamW(groups, {
      lr: lrRange(slice(3e-3), groups.length),
      mom: 0.9,
      beta2: this.betas.beta2,
      eps: this.betas.eps,
      wd: this.wd,
      wdBnBias: this.betas.wdBnBias,
    });
  }

  /** Number of layer groups. */
  get nGroups(): number {
    return this.layerGroups.length;
  }

  /**
   * Freezes layer groups `[0, n)` and unfreezes the rest (fast.ai `freeze_to`); negative `n` counts from the end.
   * BatchNorm layers stay trainable in frozen groups when `trainBn` (default). Resets the optimizer state.
   */
  freezeTo(n: number): void {
    if (!Number.isInteger(n)) throw new HyperParameterError(`freezeTo(n): n must be an integer, got ${n}`);
    const k = n < 0 ? Math.max(0, this.nGroups + n) : Math.min(n, this.nGroups);
    for (const [name, p] of this.paramByName) {
      const g = this.paramGroupOf.get(name)!;
      p.trainable = g >= k || (this.trainBn && this.bnParams.has(name));
    }
    this.opt.dispose();
    this.opt = this.createOpt();
  }

  /** Freezes every group but the last (BatchNorm stays trainable), as fast.ai's `freeze()`. */
  freeze(): void {
    this.freezeTo(-1);
  }

  /** Makes every parameter trainable. */
  unfreeze(): void {
    this.freezeTo(0);
  }

  /** Names of the parameters the next fit will train. */
  trainableParameterNames(): string[] {
    return [...this.paramByName].filter(([, p]) => p.trainable).map(([n]) => n);
  }

  /** The layer group index of every parameter, by name. */
  parameterGroups(): Map<string, number> {
    return new Map(this.paramGroupOf);
  }

  // ------------------------------------------------------------------------------------------------ helpers

  /** Whether the data has a validation set. */
  hasValidation(): boolean {
    return !!this.data.validDl && this.data.validDl.length > 0;
  }

  /** Metric column names. */
  metricNames(): string[] {
    return this.metrics.map((m) => metricName(m));
  }

  /** Callbacks may call this to stop after the current epoch (fast.ai `CancelTrainException` at epoch end). */
  stopAfterEpoch(reason: string): void {
    this.control.stopAfterEpoch = true;
    this.control.reason = reason;
  }

  /** Callbacks may call this to stop at the end of the current batch, skipping validation (fast.ai `CancelFitException`). */
  cancelFit(reason: string): void {
    this.control.cancelFit = true;
    this.control.reason = reason;
  }

  private stepContext(): TrainStepContext {
    const trainable = new Map<string, tf.Variable>();
    for (const [name, p] of this.paramByName) if (p.trainable) trainable.set(name, p);
    return { model: this.model, lossFunc: this.lossFunc, trainable };
  }

  private dl(ds: DatasetType): LearnerDataLoader {
    const dl = ds === 'train' ? this.data.trainDl : ds === 'valid' ? this.data.validDl : this.data.testDl;
    if (!dl) {
      throw new LearnerConfigError(
        ds === 'test'
          ? 'there is no test set: create the data with { test: "test" } (a folder of unlabelled images)'
          : `there is no ${ds} set in this DataBunch`,
      );
    }
    return dl;
  }

  private checkLabels(y: Int32Array | Float32Array | Uint8Array, what: string): void {
    for (const v of y) {
      if (!(v >= 0 && v < this.data.c && Number.isInteger(v))) {
        throw new LearnerError(`${what}: label ${v} is not a class index in [0, ${this.data.c}) (classes: ${this.data.classes.join(', ')})`);
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ training

  /**
   * Trains for `nEpoch` epochs at constant learning rate(s) `lr` (a number, `slice(hi)`, `slice(lo, hi)` or
   * one per layer group; default `slice(3e-3)`).
   */
  async fit(nEpoch: number, lr: LrSpec = slice(3e-3), opts: FitOptions = {}): Promise<void> {
    const lrs = lrRange(lr, this.nGroups);
    this.opt.setHypers({ lr: lrs });
    await this.runFit(nEpoch, { ...opts, validate: true, nonFinite: 'throw' });
  }

  /**
   * fast.ai's `fit_one_cycle`: per batch, the learning rate of each group goes by cosine from `maxLr/divFactor`
   * to `maxLr` over `pctStart` of the iterations, then down to `maxLr/finalDiv`; momentum goes 0.95 -> 0.85 -> 0.95.
   * The second argument is the options, or the maximum learning rate alone as in fast.ai
   * (`learn.fitOneCycle(3, slice(1e-5, 3e-4))`).
   */
  async fitOneCycle(nEpoch: number, optsOrMaxLr: FitOneCycleOptions | LrSpec = {}): Promise<void> {
    const opts: FitOneCycleOptions = isLrSpec(optsOrMaxLr) ? { maxLr: optsOrMaxLr } : optsOrMaxLr;
    const maxLrs = lrRange(opts.maxLr ?? slice(3e-3), this.nGroups);
    const nIter = this.data.trainDl.length * nEpoch;
    const sched = new OneCycleSchedule(Math.max(1, nIter), opts);
    const scheduler: Callback = {
      name: 'OneCycleScheduler',
      order: -20,
      beforeBatch: (learn) => {
        if (!learn.training) return;
        const { lrFactor, mom } = sched.at(learn.trainIter);
        learn.opt.setHypers({ lr: maxLrs.map((l) => l * lrFactor), mom });
      },
    };
    const { lrFactor, mom } = sched.at((opts.startEpoch ?? 0) * this.data.trainDl.length);
    this.opt.setHypers({ lr: maxLrs.map((l) => l * lrFactor), mom });
    await this.runFit(nEpoch, { ...opts, callbacks: [scheduler, ...(opts.callbacks ?? [])], validate: true, nonFinite: 'throw' });
  }

  /**
   * fast.ai's `lr_find`: trains with a learning rate growing exponentially from `startLr` to `endLr` over `numIt`
   * batches, recording the smoothed loss, stopping when it diverges (> 4x the minimum), then restores the weights,
   * BatchNorm statistics and optimizer state exactly as they were.
   */
  async lrFind(opts: LrFindOptions = {}): Promise<LrFindResult> {
    const startLr = opts.startLr ?? 1e-7;
    const endLr = opts.endLr ?? 10;
    const numIt = opts.numIt ?? 100;
    const stopDiv = opts.stopDiv ?? true;
    if (!(startLr > 0 && endLr > startLr)) throw new HyperParameterError(`lrFind: need 0 < startLr < endLr, got ${startLr}, ${endLr}`);
    if (!Number.isInteger(numIt) || numIt < 2) throw new HyperParameterError(`lrFind: numIt must be an integer >= 2, got ${numIt}`);
    const snapshot = this.snapshot();
    const optState = this.opt.stateDict();
    const lrs: number[] = [];
    const losses: number[] = [];
    let best = Number.POSITIVE_INFINITY;
    const finder: Callback = {
      name: 'LRFinder',
      order: -20,
      beforeBatch: (learn) => {
        const lr = annealingExp(startLr, endLr, learn.trainIter / numIt);
        learn.opt.setHypers({ lr });
      },
      afterBatch: (learn) => {
        if (!learn.training || !Number.isFinite(learn.loss)) return;
        const smooth = learn.recorder.smoothLoss;
        lrs.push(learn.opt.lrs[learn.opt.lrs.length - 1]!);
        losses.push(smooth);
        if (smooth < best) best = smooth;
        if (learn.trainIter + 1 >= numIt) learn.cancelFit('lrFind: done');
        else if (stopDiv && (smooth > 4 * best || !Number.isFinite(smooth))) learn.cancelFit('lrFind: the loss diverged');
      },
    };
    const epochs = Math.ceil(numIt / Math.max(1, this.data.trainDl.length));
    const epochsBefore = this.epochsTrained;
    try {
      await this.runFit(epochs, {
        wd: opts.wd,
        signal: opts.signal,
        callbacks: [finder],
        validate: false,
        nonFinite: 'stop',
        checkpointOnInterrupt: false,
      });
    } finally {
      this.restore(snapshot);
      this.opt.loadStateDict(optState);
      tf.dispose(Object.values(optState.tensors));
      this.epochsTrained = epochsBefore;
      await this.trainStep.weightsChanged?.(this.stepContext());
    }
    return { lrs, losses, suggestions: lrSuggestions(lrs, losses, numIt) };
  }

  /** Copies of every parameter and buffer (to restore exactly). */
  private snapshot(): Map<tf.Variable, tf.Tensor> {
    const out = new Map<tf.Variable, tf.Tensor>();
    for (const [, p] of this.model.namedParameters()) out.set(p, tf.clone(p));
    for (const [, b] of this.model.namedBuffers()) out.set(b, tf.clone(b));
    return out;
  }

  private restore(snap: Map<tf.Variable, tf.Tensor>): void {
    for (const [v, t] of snap) {
      v.assign(t);
      t.dispose();
    }
  }

  private async runFit(
    nEpoch: number,
    opts: FitOptions & { validate: boolean; nonFinite: 'throw' | 'stop'; checkpointOnInterrupt?: boolean },
  ): Promise<void> {
    if (!Number.isInteger(nEpoch) || nEpoch < 1) throw new HyperParameterError(`fit: epochs must be a whole number >= 1, got ${nEpoch}`);
    await platformReady();
    const scope = opts.signal ? undefined : currentPlatform().interrupts?.();
    if (!scope) return this.runFitWith(nEpoch, opts);
    try {
      return await this.runFitWith(nEpoch, { ...opts, signal: scope.signal });
    } catch (e) {
      if (e instanceof FitInterruptedError) scope.onInterrupted?.(e);
      throw e;
    } finally {
      scope.release();
    }
  }

  private async runFitWith(
    nEpoch: number,
    opts: FitOptions & { validate: boolean; nonFinite: 'throw' | 'stop'; checkpointOnInterrupt?: boolean },
  ): Promise<void> {
    const wd = opts.wd ?? this.wd;
    if (!(wd >= 0)) throw new HyperParameterError(`fit: weight decay must be >= 0, got ${wd}`);
    this.opt.wd = wd;
    const ctx = this.stepContext();
    if (ctx.trainable.size === 0) throw new LearnerConfigError('fit: no parameter is trainable (call unfreeze() or freezeTo(n))');
    const cbs = sortCallbacks([this.recorder, ...this.callbacks, ...(opts.callbacks ?? [])]);
    const run = (e: CallbackEvent) => runEvent(cbs, e, this);
    this.control = { cancelFit: false, stopAfterEpoch: false, reason: undefined };
    this.fitError = undefined;
    this.stopReason = undefined;
    const startEpoch = opts.startEpoch ?? 0;
    if (!Number.isInteger(startEpoch) || startEpoch < 0 || startEpoch >= nEpoch) {
      throw new HyperParameterError(`fit: startEpoch must be a whole number in [0, ${nEpoch}), got ${startEpoch}`);
    }
    this.nEpoch = nEpoch;
    this.trainIter = startEpoch * this.data.trainDl.length;
    this.lastValidation = undefined;
    let fitError: unknown;
    try {
      await run('beforeFit');
      for (let epoch = startEpoch; epoch < nEpoch; epoch++) {
        this.epoch = epoch;
        await run('beforeEpoch');
        await this.trainEpoch(ctx, run, opts);
        if (this.control.cancelFit) break;
        if (opts.validate && this.hasValidation()) {
          this.training = false;
          await run('beforeValidate');
          this.lastValidation = await this.validateLoader(this.data.validDl!, run);
          await run('afterValidate');
        }
        this.epochsTrained += 1;
        await run('afterEpoch');
        if (opts.signal?.aborted) await this.interrupt(opts, epoch, this.data.trainDl.length);
        if (this.control.stopAfterEpoch || this.control.cancelFit) break;
      }
      this.stopReason = this.control.reason;
    } catch (e) {
      fitError = e;
      this.fitError = e;
    } finally {
      this.training = false;
      this.xb = undefined;
      this.yb = undefined;
      this.model.eval();
      try {
        await run('afterFit');
      } catch (e) {
        if (fitError === undefined) fitError = e;
      }
    }
    if (fitError !== undefined) throw fitError;
  }

  private async trainEpoch(
    ctx: TrainStepContext,
    run: (e: CallbackEvent) => Promise<void>,
    opts: FitOptions & { nonFinite: 'throw' | 'stop'; checkpointOnInterrupt?: boolean },
  ): Promise<void> {
    const dl = this.data.trainDl;
    this.training = true;
    this.model.train();
    this.iter = 0;
    this.nIter = dl.length;
    await run('beforeTrain');
    for await (const { x, y } of dl) {
      try {
        this.xb = x;
        this.yb = y;
        this.checkLabels(await y.data(), `training batch ${this.iter} of epoch ${this.epoch}`);
        await run('beforeBatch');
        const { loss, grads } = await this.trainStep.computeGradients(ctx, x, y);
        try {
          this.loss = loss;
          const finite = Number.isFinite(loss) && (await allFinite(grads));
          if (!finite) {
            const what = Number.isFinite(loss) ? `the gradients are not finite (loss ${loss})` : `the loss is ${loss}`;
            if (opts.nonFinite === 'stop') {
              this.cancelFit(`stopped: ${what}`);
            } else {
              throw new NonFiniteLossError(
                `training stopped at epoch ${this.epoch}, batch ${this.iter}: ${what} (learning rates ` +
                  `${this.opt.lrs.map((l) => l.toExponential(2)).join(', ')}). The weights are those of the last good ` +
                  'step (this batch was not applied). Lower the learning rate (try learn.lrFind()) or check the data.',
                this.epoch,
                this.iter,
                loss,
              );
            }
          } else {
            await run('afterLoss');
            this.opt.step(grads);
          }
        } finally {
          tf.dispose([...grads.values()]);
        }
        if (!this.control.cancelFit) {
          await this.trainStep.weightsChanged?.(ctx);
          await run('afterStep');
        }
        await run('afterBatch');
      } finally {
        this.xb = undefined;
        this.yb = undefined;
        tf.dispose([x, y]);
      }
      this.iter += 1;
      this.trainIter += 1;
      if (this.control.cancelFit) break;
      if (opts.signal?.aborted) await this.interrupt(opts, this.epoch, this.iter);
    }
    await run('afterTrain');
  }

  /** Saves a checkpoint (when possible) and throws {@link FitInterruptedError}. */
  private async interrupt(
    opts: FitOptions & { checkpointOnInterrupt?: boolean },
    epoch: number,
    batch: number,
  ): Promise<never> {
    let checkpoint: string | undefined;
    if (this.storage && opts.checkpointOnInterrupt !== false) {
      checkpoint = await this.save(opts.checkpointName ?? 'interrupted', { interrupted: { epoch, batch } });
    }
    throw new FitInterruptedError(
      `training interrupted at epoch ${epoch}, after batch ${batch}` +
        (checkpoint ? `; the training state is saved in ${checkpoint} (learn.load('${opts.checkpointName ?? 'interrupted'}') resumes from it)` : ''),
      epoch,
      batch,
      checkpoint,
    );
  }

  /** Loss and metrics on a loader, in eval mode, averaged per item (fast.ai `validate`). */
  private async validateLoader(dl: LearnerDataLoader, run?: (e: CallbackEvent) => Promise<void>): Promise<ValidationStats> {
    this.model.eval();
    this.training = false;
    this.iter = 0;
    this.nIter = dl.length;
    let n = 0;
    let lossSum = 0;
    const metricSums = this.metrics.map(() => 0);
    for await (const { x, y } of dl) {
      try {
        this.checkLabels(await y.data(), `validation batch ${this.iter}`);
        const bs = x.shape[0];
        const vals = tf.tidy(() => {
          const out = this.model.forward(x);
          return [this.lossFunc(out, y), ...this.metrics.map((m) => m(out, y))];
        });
        const nums = await Promise.all(vals.map(async (v) => (await v.data())[0]!));
        tf.dispose(vals);
        lossSum += nums[0]! * bs;
        nums.slice(1).forEach((v, i) => (metricSums[i]! += v * bs));
        n += bs;
        if (run) {
          this.xb = x;
          this.yb = y;
          await run('afterBatch');
        }
      } finally {
        this.xb = undefined;
        this.yb = undefined;
        tf.dispose([x, y]);
      }
      this.iter += 1;
    }
    return { loss: n ? lossSum / n : Number.NaN, metrics: metricSums.map((s) => (n ? s / n : Number.NaN)) };
  }

  /** Validation loss and metrics on the validation set (or `ds`), as fast.ai's `validate()`. */
  async validate(ds: DatasetType = 'valid'): Promise<ValidationStats> {
    if (ds === 'test') throw new LearnerConfigError('validate: the test set has no labels; use getPreds({ ds: "test" })');
    return this.validateLoader(this.dl(ds));
  }

  // ------------------------------------------------------------------------------------------------ inference

  /**
   * Softmax predictions on a data set in item order (fast.ai `get_preds`), with the items (file paths) so that
   * test predictions can be matched to files.
   */
  async getPreds(optsOrDs: GetPredsOptions | DatasetType = {}): Promise<Predictions> {
    const opts: GetPredsOptions = typeof optsOrDs === 'string' ? { ds: optsOrDs } : optsOrDs;
    const dl = opts.dl ?? this.dl(opts.ds ?? (opts.isTest ? 'test' : 'valid'));
    return this.predictLoader(dl, (x) => this.model.forward(x), opts.withLoss ?? false);
  }

  private async predictLoader(dl: LearnerDataLoader, forward: (x: tf.Tensor4D) => tf.Tensor, withLoss: boolean): Promise<Predictions> {
    this.model.eval();
    const n = dl.items.length;
    const probs: number[][] = new Array<number[]>(n);
    const targets: number[] = new Array<number>(n);
    let next = 0;
    const pass: AsyncIterable<Batch> = dl.iterate ? dl.iterate({ shuffle: false, augment: false }) : dl;
    for await (const { x, y, indices } of pass) {
      try {
        const p = tf.tidy(() => tf.softmax(forward(x) as tf.Tensor2D));
        const [pv, yv] = await Promise.all([p.data(), y.data()]);
        p.dispose();
        const [rows, c] = p.shape as [number, number];
        for (let i = 0; i < rows; i++) {
          const at = indices ? indices[i]! : next + i;
          if (!(at >= 0 && at < n)) throw new LearnerError(`the loader yielded more predictions than its ${n} items: item order would be wrong`);
          probs[at] = Array.from(pv.subarray(i * c, (i + 1) * c));
          targets[at] = yv[i]!;
        }
        next += rows;
      } finally {
        tf.dispose([x, y]);
      }
    }
    if (next !== n || Array.from({ length: n }, (_, i) => i).some((i) => probs[i] === undefined)) {
      throw new LearnerError(`the loader yielded ${next} predictions for ${n} items: item order would be wrong`);
    }
    const items = [...dl.items];
    const preds = probs.map(argMax);
    const out = predictions({ probs, targets, preds, items });
    if (withLoss) {
      out.losses = probs.map((row, i) => {
        const t = targets[i]!;
        return t >= 0 && t < row.length ? -Math.log(Math.max(row[t]!, 1e-45)) : Number.NaN;
      });
    }
    return out;
  }

  /**
   * Test-time augmentation (fast.ai v1 `TTA`): averages the predictions on 8 zoomed (x`scale`, one per corner)
   * and flipped views, then mixes them with the plain predictions: `beta * plain + (1 - beta) * augmented`.
   */
  async tta(opts: { ds?: DatasetType; beta?: number; scale?: number; withLoss?: boolean } = {}): Promise<Predictions> {
    const beta = opts.beta ?? 0.4;
    const scale = opts.scale ?? 1.35;
    const dl = this.dl(opts.ds ?? 'valid');
    const plain = await this.predictLoader(dl, (x) => this.model.forward(x), false);
    const views = ttaViews(scale);
    const sum = plain.probs.map((r) => r.map(() => 0));
    for (const view of views) {
      const p = await this.predictLoader(dl, (x) => this.model.forward(view(x)), false);
      p.probs.forEach((r, i) => r.forEach((v, j) => (sum[i]![j]! += v / views.length)));
    }
    const probs = plain.probs.map((r, i) => r.map((v, j) => beta * v + (1 - beta) * sum[i]![j]!));
    const out = predictions({ ...plain, probs, preds: probs.map(argMax) });
    if (opts.withLoss) {
      out.losses = probs.map((row, i) => {
        const t = plain.targets[i]!;
        return t >= 0 ? -Math.log(Math.max(row[t]!, 1e-45)) : Number.NaN;
      });
    }
    return out;
  }

  /**
   * Predicts one prepared input `[1, H, W, 3]` or `[H, W, 3]` (already resized and normalized). Vision learners
   * add `predict(image)` for decoded images.
   */
  async predictTensor(x: tf.Tensor): Promise<Prediction> {
    this.model.eval();
    const p = tf.tidy(() => {
      const xb = (x.rank === 3 ? tf.expandDims(x, 0) : x) as tf.Tensor4D;
      return tf.softmax(this.model.forward(xb) as tf.Tensor2D);
    });
    const probs = Array.from(await p.data());
    p.dispose();
    const index = argMax(probs);
    return { className: this.data.classes[index]!, index, probs };
  }

  // ------------------------------------------------------------------------------------------------ files

  private requireStorage(what: string): LearnerStorage {
    if (!this.storage) {
      throw new LearnerConfigError(`${what} needs storage: create the Learner with { storage } (on Node: nodeStorage())`);
    }
    return this.storage;
  }

  /** The file `save(name)` writes: `<path>/<modelDir>/<name>.safetensors`. */
  checkpointPath(name: string): string {
    if (!name || /[\\/]/.test(name)) throw new LearnerConfigError(`checkpoint name "${name}" must be a plain file name without folders`);
    return joinPath(this.path, this.modelDir, `${name}.safetensors`);
  }

  /**
   * Saves the training state (weights, BatchNorm statistics, optimizer state, epochs trained) to
   * `<path>/<modelDir>/<name>.safetensors`, atomically. Returns the path.
   */
  async save(name: string, extra: { interrupted?: { epoch: number; batch: number } } = {}): Promise<string> {
    const storage = this.requireStorage('save');
    const file = this.checkpointPath(name);
    const sd = this.model.stateDict({ layout: 'native' });
    const opt = this.opt.stateDict();
    const tensors: Record<string, tf.Tensor> = {};
    for (const [k, t] of sd) tensors[`model.${k}`] = t;
    for (const [k, t] of Object.entries(opt.tensors)) tensors[`opt.${k}`] = t;
    const meta: CheckpointMeta = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      epoch: this.epochsTrained,
      classes: this.data.classes,
      optimizer: opt.meta,
      ...(extra.interrupted ? { interrupted: extra.interrupted } : {}),
    };
    try {
      await storage.writeFile(file, await encodeCheckpoint(tensors, meta));
    } finally {
      tf.dispose(Object.values(tensors));
    }
    return file;
  }

  /** Loads a state written by {@link save} (weights, statistics, optimizer state unless `withOpt: false`). */
  async load(name: string, opts: { withOpt?: boolean; strict?: boolean } = {}): Promise<void> {
    const storage = this.requireStorage('load');
    const file = this.checkpointPath(name);
    if (!(await storage.exists(file))) throw new CheckpointError(`no checkpoint "${name}" at ${file}: save it first with learn.save('${name}')`);
    const { tensors, meta } = decodeCheckpoint(await storage.readFile(file), file);
    const m = meta as Partial<CheckpointMeta>;
    if (m.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${file} is not a training checkpoint (format ${String(m.format)}); exports load with loadLearner`);
    if (m.classes && m.classes.join('\u0000') !== this.data.classes.join('\u0000')) {
      throw new CheckpointError(`${file} was trained on classes [${m.classes.join(', ')}] but this Learner has [${this.data.classes.join(', ')}]`);
    }
    const model = new Map<string, tf.Tensor>();
    const opt: Record<string, tf.Tensor> = {};
    try {
      for (const [k, t] of Object.entries(tensors)) {
        if (k.startsWith('model.')) model.set(k.slice(6), storedToTensor(t));
        else if (k.startsWith('opt.')) opt[k.slice(4)] = storedToTensor(t);
      }
      this.model.loadStateDict(model, { strict: opts.strict ?? true, layout: 'native' });
      if ((opts.withOpt ?? true) && m.optimizer) this.opt.loadStateDict({ tensors: opt, meta: m.optimizer });
    } catch (e) {
      if (e instanceof LearnerError) throw e;
      throw new CheckpointError(`cannot load ${file} into this model: ${(e as Error).message}`);
    } finally {
      tf.dispose([...model.values(), ...Object.values(opt)]);
    }
    this.epochsTrained = m.epoch ?? this.epochsTrained;
    await this.trainStep.weightsChanged?.(this.stepContext());
  }

  /**
   * Writes what inference needs — weights, class names and `exportInfo` (architecture, input size,
   * preprocessing) — to `<path>/<fname>`, atomically (fast.ai `export`). Reload with `loadLearner`.
   * `export({ format: 'onnx' })` writes `export.onnx` instead: the network as an ONNX model (see `toOnnx`).
   * @param options a file name (default `export.safetensors`) or {@link LearnerExportOptions}
   */
  async export(options: string | LearnerExportOptions = {}): Promise<string> {
    const storage = this.requireStorage('export');
    const { format, fname } = resolveExportOptions(options);
    const file = joinPath(this.path, fname);
    if (format === 'onnx') {
      const onnx = await learnerToOnnx(this.model, this.data.classes, this.exportInfo, typeof options === 'string' ? {} : options);
      await storage.writeFile(file, onnx);
      return file;
    }
    const sd = this.model.stateDict({ layout: 'native' });
    const tensors: Record<string, tf.Tensor> = {};
    for (const [k, t] of sd) tensors[k] = t;
    try {
      await storage.writeFile(
        file,
        await encodeCheckpoint(tensors, { format: EXPORT_FORMAT, version: CHECKPOINT_VERSION, classes: this.data.classes, ...this.exportInfo }),
      );
    } finally {
      tf.dispose(Object.values(tensors));
    }
    return file;
  }

  /** Frees the optimizer state and the training step's resources (the model stays usable). */
  async dispose(): Promise<void> {
    this.opt.dispose();
    await this.trainStep.dispose?.();
  }
}

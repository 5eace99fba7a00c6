/**
 * The Learner: a model, its data, a loss, an optimizer and callbacks, with fast.ai's training loop (`fit`), the
 * one-cycle policy and the LR finder as callbacks on it (`fitOneCycle`, `lrFind`), freezing by layer groups, and
 * thin methods over the prediction (`predict.ts`) and checkpoint (`checkpoint-io.ts`, `export.ts`) modules.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import { type Callback, type CallbackEvent, runEvent, sortCallbacks } from './callback.js';
import { loadTrainingState, saveTrainingState, type InterruptedAt } from './checkpoint-io.js';
import type { DatasetType, LearnerData, LearnerDataLoader } from './data.js';
import { FitInterruptedError, HyperParameterError, LearnerConfigError } from './errors.js';
import { exportModel } from './export.js';
import { type FitControl, trainEpoch, validateLoader } from './fit-loop.js';
import { learnerToOnnx, resolveExportOptions, type LearnerExportOptions } from '../onnx/learner-export.js';
import { crossEntropyLoss, type LossFunction } from './loss.js';
import { isLrSlice, lrRange, type LrSpec, slice } from './lr.js';
import { captureTrainingState, LRFinder, type LrFindOptions, type LrFindResult } from './lr-finder.js';
import { type Metric, metricName } from './metrics.js';
import type { AdamW } from './optimizer.js';
import type { FitOneCycleOptions, FitOptions, LearnerOptions, RunFitOptions } from './options.js';
import { OneCycleScheduler } from './param-scheduler.js';
import { ParamGroups } from './param-groups.js';
import { currentPlatform, platformReady } from './platform.js';
import {
  predictLoader,
  predictTensor,
  predictTta,
  type GetPredsOptions,
  type Prediction,
  type Predictions,
  type TtaOptions,
} from './predict.js';
import { ProgressCallback } from './progress.js';
import { Recorder } from './recorder.js';
import { joinPath, type LearnerStorage } from './storage.js';
import { SingleBackendStep, type TrainStep, type TrainStepContext } from './train-step.js';
import type { FitLearner, ValidationStats } from './types.js';

/** Whether `v` is a learning-rate spec (a number, `slice(...)` or an array of numbers) rather than options. */
function isLrSpec(v: unknown): v is LrSpec {
  return typeof v === 'number' || Array.isArray(v) || isLrSlice(v);
}

/**
 * fast.ai's Learner. Build one with `cnnLearner`/`visionLearner` for images, or directly from any
 * {@link Module} and {@link LearnerData}.
 */
export class Learner implements FitLearner {
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

  // ---- state visible to callbacks during a fit (see FitLearner)
  epoch = 0;
  nEpoch = 0;
  iter = 0;
  nIter = 0;
  trainIter = 0;
  training = false;
  loss = Number.NaN;
  xb: tf.Tensor4D | undefined;
  yb: tf.Tensor1D | undefined;
  lastValidation: ValidationStats | undefined;
  epochsTrained = 0;
  fitError: unknown;
  /** Why the last fit stopped early, if it did (early stopping, lrFind divergence, ...). */
  stopReason: string | undefined;

  private control: FitControl = { cancelFit: false, stopAfterEpoch: false, reason: undefined };
  private readonly groups: ParamGroups;
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
    this.groups = new ParamGroups(model, this.layerGroups);
    this.callbacks = [...(opts.callbacks ?? [])];
    const platform = currentPlatform();
    const reporter = opts.quiet || opts.reporter === null ? undefined : (opts.reporter ?? platform.reporter?.());
    if (reporter) this.callbacks.push(new ProgressCallback(reporter));
    this.path = opts.path ?? '.';
    this.modelDir = opts.modelDir ?? 'models';
    this.storage = opts.storage ?? platform.storage;
    this.trainStep =
      opts.trainStep ?? new SingleBackendStep(opts.microBatch !== undefined ? { microBatch: opts.microBatch } : {});
    this.exportInfo = opts.exportInfo ?? {};
    this.betas = { beta2: opts.beta2 ?? 0.99, eps: opts.eps ?? 1e-5, wdBnBias: opts.wdBnBias ?? true };
    this.opt = this.createOpt();
  }

  // ------------------------------------------------------------------------------------------------ groups

  private createOpt(): AdamW {
    return this.groups.createOptimizer({ ...this.betas, wd: this.wd });
  }

  /** Number of layer groups. */
  get nGroups(): number {
    return this.groups.length;
  }

  /**
   * Freezes layer groups `[0, n)` and unfreezes the rest (fast.ai `freeze_to`); negative `n` counts from the end.
   * BatchNorm layers stay trainable in frozen groups when `trainBn` (default). Resets the optimizer state.
   */
  freezeTo(n: number): void {
    this.groups.freezeTo(n, this.trainBn);
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
    return [...this.groups.trainable().keys()];
  }

  /** The layer group index of every parameter, by name. */
  parameterGroups(): Map<string, number> {
    return this.groups.groups();
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
    return { model: this.model, lossFunc: this.lossFunc, trainable: this.groups.trainable() };
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

  // ------------------------------------------------------------------------------------------------ training

  /**
   * Trains for `nEpoch` epochs at constant learning rate(s) `lr` (a number, `slice(hi)`, `slice(lo, hi)` or
   * one per layer group; default `slice(3e-3)`).
   */
  async fit(nEpoch: number, lr: LrSpec = slice(3e-3), opts: FitOptions = {}): Promise<void> {
    this.opt.setHypers({ lr: lrRange(lr, this.nGroups) });
    await this.runFit(nEpoch, { ...opts, validate: true, nonFinite: 'throw' });
  }

  /**
   * fast.ai's `fit_one_cycle`: `fit` with a {@link OneCycleScheduler} — per batch, the learning rate of each group
   * goes by cosine from `maxLr/divFactor` to `maxLr` over `pctStart` of the iterations, then down to
   * `maxLr/finalDiv`; momentum goes 0.95 -> 0.85 -> 0.95. The second argument is the options, or the maximum
   * learning rate alone as in fast.ai (`learn.fitOneCycle(3, slice(1e-5, 3e-4))`).
   */
  async fitOneCycle(nEpoch: number, optsOrMaxLr: FitOneCycleOptions | LrSpec = {}): Promise<void> {
    const opts: FitOneCycleOptions = isLrSpec(optsOrMaxLr) ? { maxLr: optsOrMaxLr } : optsOrMaxLr;
    const maxLrs = lrRange(opts.maxLr ?? slice(3e-3), this.nGroups);
    const scheduler = new OneCycleScheduler(maxLrs, this.data.trainDl.length * nEpoch, opts);
    await this.runFit(nEpoch, { ...opts, callbacks: [scheduler, ...(opts.callbacks ?? [])], validate: true, nonFinite: 'throw' });
  }

  /**
   * fast.ai's `lr_find`: a fit with the {@link LRFinder} callback — the learning rate grows exponentially from
   * `startLr` to `endLr` over `numIt` batches while the smoothed loss is recorded, stopping when it diverges
   * (> 4x the minimum) — then the weights, BatchNorm statistics and optimizer state are restored exactly.
   */
  async lrFind(opts: LrFindOptions = {}): Promise<LrFindResult> {
    const finder = new LRFinder(opts);
    const saved = captureTrainingState(this.model, this.opt);
    const epochsBefore = this.epochsTrained;
    try {
      await this.runFit(finder.epochsFor(this.data.trainDl.length), {
        wd: opts.wd,
        signal: opts.signal,
        callbacks: [finder],
        validate: false,
        nonFinite: 'stop',
        checkpointOnInterrupt: false,
      });
    } finally {
      saved.restore();
      this.epochsTrained = epochsBefore;
      await this.trainStep.weightsChanged?.(this.stepContext());
    }
    return finder.result();
  }

  private async runFit(nEpoch: number, opts: RunFitOptions): Promise<void> {
    if (!Number.isInteger(nEpoch) || nEpoch < 1)
      throw new HyperParameterError(`fit: epochs must be a whole number >= 1, got ${nEpoch}`);
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

  private async runFitWith(nEpoch: number, opts: RunFitOptions): Promise<void> {
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
        await trainEpoch(this, this.control, ctx, run, {
          nonFinite: opts.nonFinite,
          signal: opts.signal,
          onAbort: (at) => this.interrupt(opts, at),
        });
        if (this.control.cancelFit) break;
        if (opts.validate && this.hasValidation()) {
          this.training = false;
          await run('beforeValidate');
          this.lastValidation = await validateLoader(this, this.data.validDl!, run);
          await run('afterValidate');
        }
        this.epochsTrained += 1;
        await run('afterEpoch');
        if (opts.signal?.aborted) await this.interrupt(opts, { epoch, batch: this.data.trainDl.length });
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

  /** Saves a checkpoint (when possible) and throws {@link FitInterruptedError}. */
  private async interrupt(opts: RunFitOptions, at: InterruptedAt): Promise<never> {
    const name = opts.checkpointName ?? 'interrupted';
    const checkpoint =
      this.storage && opts.checkpointOnInterrupt !== false ? await this.save(name, { interrupted: at }) : undefined;
    throw new FitInterruptedError(
      `training interrupted at epoch ${at.epoch}, after batch ${at.batch}` +
        (checkpoint ? `; the training state is saved in ${checkpoint} (learn.load('${name}') resumes from it)` : ''),
      at.epoch,
      at.batch,
      checkpoint,
    );
  }

  /** Validation loss and metrics on the validation set (or `ds`), as fast.ai's `validate()`. */
  async validate(ds: DatasetType = 'valid'): Promise<ValidationStats> {
    if (ds === 'test') throw new LearnerConfigError('validate: the test set has no labels; use getPreds({ ds: "test" })');
    return validateLoader(this, this.dl(ds));
  }

  // ------------------------------------------------------------------------------------------------ inference

  /**
   * Softmax predictions on a data set in item order (fast.ai `get_preds`), with the items (file paths) so that
   * test predictions can be matched to files.
   */
  async getPreds(optsOrDs: GetPredsOptions | DatasetType = {}): Promise<Predictions> {
    const opts: GetPredsOptions = typeof optsOrDs === 'string' ? { ds: optsOrDs } : optsOrDs;
    const dl = opts.dl ?? this.dl(opts.ds ?? (opts.isTest ? 'test' : 'valid'));
    return predictLoader(this.model, dl, opts.withLoss ?? false);
  }

  /**
   * Test-time augmentation (fast.ai v1 `TTA`): averages the predictions on 8 zoomed (x`scale`, one per corner)
   * and flipped views, then mixes them with the plain predictions: `beta * plain + (1 - beta) * augmented`.
   */
  async tta(opts: TtaOptions = {}): Promise<Predictions> {
    return predictTta(this.model, this.dl(opts.ds ?? 'valid'), opts);
  }

  /**
   * Predicts one prepared input `[1, H, W, 3]` or `[H, W, 3]` (already resized and normalized). Vision learners
   * add `predict(image)` for decoded images.
   */
  async predictTensor(x: tf.Tensor): Promise<Prediction> {
    return predictTensor(this.model, this.data.classes, x);
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
    if (!name || /[\\/]/.test(name))
      throw new LearnerConfigError(`checkpoint name "${name}" must be a plain file name without folders`);
    return joinPath(this.path, this.modelDir, `${name}.safetensors`);
  }

  /**
   * Saves the training state (weights, BatchNorm statistics, optimizer state, epochs trained) to
   * `<path>/<modelDir>/<name>.safetensors`, atomically. Returns the path.
   */
  async save(name: string, extra: { interrupted?: InterruptedAt } = {}): Promise<string> {
    const storage = this.requireStorage('save');
    const file = this.checkpointPath(name);
    await saveTrainingState(
      storage,
      file,
      { model: this.model, opt: this.opt, classes: this.data.classes, epochsTrained: this.epochsTrained },
      extra.interrupted,
    );
    return file;
  }

  /** Loads a state written by {@link save} (weights, statistics, optimizer state unless `withOpt: false`). */
  async load(name: string, opts: { withOpt?: boolean; strict?: boolean } = {}): Promise<void> {
    const storage = this.requireStorage('load');
    const { epochsTrained } = await loadTrainingState(
      storage,
      this.checkpointPath(name),
      name,
      { model: this.model, opt: this.opt, classes: this.data.classes },
      opts,
    );
    this.epochsTrained = epochsTrained ?? this.epochsTrained;
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
      await storage.writeFile(
        file,
        await learnerToOnnx(this.model, this.data.classes, this.exportInfo, typeof options === 'string' ? {} : options),
      );
    } else {
      await exportModel(storage, file, { model: this.model, classes: this.data.classes, exportInfo: this.exportInfo });
    }
    return file;
  }

  /** Frees the optimizer state and the training step's resources (the model stays usable). */
  async dispose(): Promise<void> {
    this.opt.dispose();
    await this.trainStep.dispose?.();
  }
}

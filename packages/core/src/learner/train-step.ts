/**
 * The training step is pluggable: the default computes the loss and gradients on the active tfjs backend; a
 * platform may provide another (e.g. data-parallel across workers) with the same contract.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/index.js';
import { HyperParameterError } from './errors.js';
import type { LossFunction } from './loss.js';

/** What a training step may use: the model, the loss, and the trainable parameters by name. */
export interface TrainStepContext {
  readonly model: Module;
  readonly lossFunc: LossFunction;
  /** Trainable parameters by state-dict name (what gradients are keyed by). */
  readonly trainable: ReadonlyMap<string, tf.Variable>;
}

/** The result of one step: the batch loss and a gradient per trainable parameter (the caller disposes them). */
export interface StepResult {
  loss: number;
  grads: Map<string, tf.Tensor>;
}

/** A training step strategy. */
export interface TrainStep {
  /** A short name for messages and logs (e.g. `single-backend`, `data-parallel x2`). */
  readonly name: string;
  /**
   * Runs the forward and backward pass of one batch in training mode (updating BatchNorm statistics) and returns
   * the loss and the gradients. Must not modify the parameters; the Learner applies the optimizer.
   */
  computeGradients(ctx: TrainStepContext, x: tf.Tensor4D, y: tf.Tensor1D): Promise<StepResult>;
  /** Called after the Learner changed the weights (optimizer step, load, lrFind restore), for replicas to sync. */
  weightsChanged?(ctx: TrainStepContext): Promise<void>;
  /** Frees what the step holds (workers, buffers). */
  dispose?(): Promise<void> | void;
}

/** Options of {@link SingleBackendStep}. */
export interface SingleBackendStepOptions {
  /**
   * Split each batch into chunks of at most this many images, accumulating their gradients (weighted by size), so
   * that the autodiff tape fits in memory. BatchNorm then normalizes each chunk with its own statistics.
   * `'auto'` (default) measures the tape of a first 2-image chunk and sizes the chunks to `memoryBudget`.
   * `Infinity` never splits.
   */
  microBatch?: number | 'auto';
  /**
   * Bytes the tape of one chunk may use with `microBatch: 'auto'`. Default: 2.5 GB on the wasm backend (its heap
   * cannot grow past 4 GB), 6 GB elsewhere.
   */
  memoryBudget?: number;
}

/**
 * The default step: `tf.variableGrads` of `lossFunc(model.forward(x), y)` on the active backend, in chunks when the
 * batch's tape would not fit in memory (see {@link SingleBackendStepOptions.microBatch}).
 */
export class SingleBackendStep implements TrainStep {
  readonly name = 'single-backend';
  /** The chunk size in use (`undefined` until `'auto'` has measured). */
  microBatch: number | undefined;
  private readonly auto: boolean;
  private readonly budget: number | undefined;
  /** Tape bytes per image measured by `'auto'`. */
  bytesPerImage: number | undefined;

  constructor(opts: SingleBackendStepOptions = {}) {
    const mb = opts.microBatch ?? 'auto';
    this.auto = mb === 'auto';
    if (mb !== 'auto') {
      if (!(mb >= 1)) throw new HyperParameterError(`microBatch must be >= 1 (or 'auto'), got ${mb}`);
      this.microBatch = Math.floor(mb);
    }
    this.budget = opts.memoryBudget;
  }

  async computeGradients(ctx: TrainStepContext, x: tf.Tensor4D, y: tf.Tensor1D): Promise<StepResult> {
    const vars = [...ctx.trainable.values()];
    if (vars.length === 0) throw new HyperParameterError('nothing to train: no parameter is trainable');
    const nameOf = new Map<string, string>();
    for (const [name, v] of ctx.trainable) nameOf.set(v.name, name);
    const n = x.shape[0];
    const grads = new Map<string, tf.Tensor>();
    let loss = 0;
    let start = 0;
    while (start < n) {
      const first = this.auto && this.microBatch === undefined;
      let len = first ? Math.min(2, n) : Math.min(this.microBatch ?? n, n - start);
      if (n - start - len === 1) len += 1; // never leave a 1-image chunk (BatchNorm needs 2 values per channel)
      const whole = start === 0 && len === n;
      const xs = whole ? x : tf.slice(x, [start, 0, 0, 0], [len, -1, -1, -1]);
      const ys = whole ? y : tf.slice(y, [start], [len]);
      let tapeBytes = 0;
      const before = tf.memory().numBytes;
      const res = tf.variableGrads(() => {
        const l = ctx.lossFunc(ctx.model.forward(xs), ys) as tf.Scalar;
        tapeBytes = tf.memory().numBytes - before;
        return whole ? l : (tf.mul(l, len / n) as tf.Scalar);
      }, vars);
      if (!whole) tf.dispose([xs, ys]);
      if (first) {
        this.bytesPerImage = tapeBytes / len;
        const budget = this.budget ?? (tf.getBackend() === 'wasm' ? 2.5e9 : 6e9);
        this.microBatch = Math.max(2, Math.floor(budget / Math.max(1, this.bytesPerImage)));
      }
      loss += (await res.value.data())[0]!;
      res.value.dispose();
      for (const [vname, g] of Object.entries(res.grads)) {
        const key = nameOf.get(vname) ?? vname;
        const acc = grads.get(key);
        if (acc) {
          grads.set(key, tf.add(acc, g));
          tf.dispose([acc, g]);
        } else grads.set(key, g);
      }
      start += len;
    }
    return { loss, grads };
  }
}

/**
 * Bytes the autodiff tape of `model` holds per image of `inputShape` (`[h, w, channels]`) in training mode, with
 * every parameter trainable: what one image costs in memory during a training step. Measured on a 2-image batch of
 * noise; BatchNorm running statistics are restored afterwards, so the model is left exactly as it was.
 */
export function tapeBytesPerImage(model: Module, lossFunc: LossFunction, inputShape: [number, number, number], numClasses: number): number {
  const buffers = model.namedBuffers().map(([, b]) => [b, tf.clone(b)] as const);
  const wasTraining = model.training;
  model.train();
  const x = tf.randomUniform([2, ...inputShape], 0, 1) as tf.Tensor4D;
  const y = tf.tensor1d([0, Math.min(1, numClasses - 1)], 'int32');
  let bytes = 0;
  try {
    const before = tf.memory().numBytes;
    const { value, grads } = tf.variableGrads(() => {
      const l = lossFunc(model.forward(x), y) as tf.Scalar;
      bytes = tf.memory().numBytes - before;
      return l;
    }, model.parameters());
    tf.dispose([value, ...Object.values(grads)]);
  } finally {
    for (const [b, saved] of buffers) {
      b.assign(saved);
      saved.dispose();
    }
    tf.dispose([x, y]);
    model.train(wasTraining);
  }
  return bytes / 2;
}

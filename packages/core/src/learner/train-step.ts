/**
 * The training step is pluggable: the default computes the loss and gradients on the active tfjs backend; a
 * platform may provide another (e.g. data-parallel across workers) with the same contract.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/index.js';
import { HyperParameterError } from './errors.js';
import type { LossFunction } from './loss.js';
import { chunkedGradients, type HeadMode } from './chunked-gradients.js';

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

/**
 * Peak bytes a training chunk may take on the wasm backend. Its heap stops at 4 GB and fragments over a run
 * (ResNet-50 chunks sized to 2.5 GB ran out of heap on the second batch), so this keeps well clear of it.
 */
export const WASM_STEP_BUDGET = 1.5e9;

/** Options of {@link SingleBackendStep}. */
export interface SingleBackendStepOptions {
  /**
   * Split each batch into chunks of at most this many images, accumulating their gradients, so that the autodiff
   * tape fits in memory (see {@link chunkedGradients}: the body's BatchNorm then normalizes each chunk with its own
   * statistics; a fast.ai head still sees the whole batch).
   * `'auto'` (default) measures the peak memory of a first 2-image chunk and sizes the chunks to `memoryBudget`.
   * `Infinity` never splits.
   */
  microBatch?: number | 'auto';
  /**
   * Peak bytes one chunk may use with `microBatch: 'auto'`. Default: {@link WASM_STEP_BUDGET} on the wasm backend,
   * 6 GB elsewhere.
   */
  memoryBudget?: number;
  /**
   * How a chunked batch treats a head with BatchNorm (see {@link chunkedGradients}): `'whole-batch'` (default)
   * or `'per-chunk'`.
   */
  head?: HeadMode;
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
  private readonly head: HeadMode;
  /** Peak bytes per image measured by `'auto'`. */
  bytesPerImage: number | undefined;

  constructor(opts: SingleBackendStepOptions = {}) {
    const mb = opts.microBatch ?? 'auto';
    this.auto = mb === 'auto';
    if (mb !== 'auto') {
      if (!(mb >= 1)) throw new HyperParameterError(`microBatch must be >= 1 (or 'auto'), got ${mb}`);
      this.microBatch = Math.floor(mb);
    }
    this.budget = opts.memoryBudget;
    this.head = opts.head ?? 'whole-batch';
  }

  async computeGradients(ctx: TrainStepContext, x: tf.Tensor4D, y: tf.Tensor1D): Promise<StepResult> {
    const vars = [...ctx.trainable.values()];
    if (vars.length === 0) throw new HyperParameterError('nothing to train: no parameter is trainable');
    const n = x.shape[0];
    if (this.auto && this.microBatch === undefined && n > 2) {
      // measure the peak memory of a 2-image step to size the chunks
      const classes = Math.max(1, ...(await y.data())) + 1;
      this.bytesPerImage = Math.max(
        1,
        await trainingBytesPerImage(ctx.model, ctx.lossFunc, [x.shape[1], x.shape[2], x.shape[3]], classes),
      );
      const budget = this.budget ?? (tf.getBackend() === 'wasm' ? WASM_STEP_BUDGET : 6e9);
      this.microBatch = Math.max(2, Math.floor(budget / this.bytesPerImage));
    }
    const r = await chunkedGradients(ctx.model, ctx.lossFunc, x, y, vars, { chunkSize: this.microBatch ?? n, head: this.head });
    const nameOf = new Map<string, string>();
    for (const [name, v] of ctx.trainable) nameOf.set(v.name, name);
    const grads = new Map<string, tf.Tensor>();
    for (const [vname, g] of r.grads) grads.set(nameOf.get(vname) ?? vname, g);
    return { loss: r.loss, grads };
  }
}

/**
 * Peak bytes of tensors one image adds during a training step of `model` (forward pass, tape and backward pass)
 * at input `inputShape` (`[h, w, channels]`), with every parameter getting a gradient. Measured on a 2-image batch
 * of noise (so per-step constants count double: the figure errs on the safe side). BatchNorm running statistics
 * are restored afterwards: the model is left exactly as it was. Use it to size micro-batches to a memory budget.
 */
export async function trainingBytesPerImage(
  model: Module,
  lossFunc: LossFunction,
  inputShape: [number, number, number],
  numClasses: number,
): Promise<number> {
  const buffers = model.namedBuffers().map(([, b]) => [b, tf.clone(b)] as const);
  const wasTraining = model.training;
  const params = model.parameters();
  const flags = params.map((p) => p.trainable);
  model.train();
  for (const p of params) p.trainable = true;
  const x = tf.randomUniform([2, ...inputShape], 0, 255, 'float32', 1) as tf.Tensor4D; // values do not matter: fixed seed
  const y = tf.tensor1d([0, Math.min(1, numClasses - 1)], 'int32');
  const before = tf.memory().numBytes;
  try {
    const info = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => lossFunc(model.forward(x), y) as tf.Scalar, params);
      tf.dispose([value, ...Object.values(grads)]);
    });
    return Math.max(0, info.peakBytes - before) / 2;
  } finally {
    params.forEach((p, i) => (p.trainable = flags[i]!));
    for (const [b, saved] of buffers) {
      b.assign(saved);
      saved.dispose();
    }
    tf.dispose([x, y]);
    model.train(wasTraining);
  }
}

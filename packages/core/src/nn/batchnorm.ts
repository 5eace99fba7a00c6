/** Batch normalization with PyTorch semantics (momentum 0.1, unbiased running variance, num_batches_tracked). */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormTrain } from '../kernels/batchnorm-train.js';
import { ModuleConfigError } from './errors.js';
import { Module, type Parameter } from './module.js';

/** Options of {@link BatchNorm2d} / {@link BatchNorm1d}. */
export interface BatchNormOptions {
  /** Added to the variance (PyTorch default 1e-5; Keras 1e-3). */
  eps?: number;
  /**
   * Weight of the new batch statistic in the running average, PyTorch style (default 0.1):
   * `running = (1 - momentum) * running + momentum * batch`. (Keras' momentum 0.99 is PyTorch's 0.01.)
   */
  momentum?: number;
}

/**
 * Shared implementation of {@link BatchNorm1d} and {@link BatchNorm2d}: normalizes over every axis but the last
 * (channels). Parameters `weight` (gamma) and `bias` (beta); buffers `running_mean`, `running_var`,
 * `num_batches_tracked` (PyTorch names; Keras' gamma/beta/moving_mean/moving_variance map onto them).
 *
 * In training mode the batch statistics normalize the input and the running statistics are updated in place
 * during the forward pass. The update is a plain `Variable.assign` of a tidied tensor, so it is safe inside
 * `tf.variableGrads` / `optimizer.minimize` (the statistics are buffers, never trainable, so no gradient flows
 * into them) and leaks no tensors.
 */
export abstract class BatchNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly numBatchesTracked: tf.Variable;
  /** Mutable so that a loader can adopt the epsilon a set of weights was trained with. */
  eps: number;
  momentum: number;

  constructor(
    readonly numFeatures: number,
    private readonly expectedRank: number,
    options: BatchNormOptions = {},
  ) {
    super();
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    this.weight = this.registerParameter('weight', tf.ones([numFeatures]));
    this.bias = this.registerParameter('bias', tf.zeros([numFeatures]));
    this.runningMean = this.registerBuffer('running_mean', tf.zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', tf.ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', tf.scalar(0, 'int32'), true);
  }

  override forward<T extends tf.Tensor>(x: T): T {
    if (x.rank !== this.expectedRank || x.shape[x.rank - 1] !== this.numFeatures) {
      throw new ModuleConfigError(
        `${this.constructor.name}(${this.numFeatures}) expects a rank-${this.expectedRank} input with ` +
          `${this.numFeatures} channels last, got shape [${x.shape.join(',')}]`,
      );
    }
    if (!this.training) {
      return tf.batchNorm(x, this.runningMean, this.runningVar, this.bias, this.weight, this.eps) as T;
    }
    const count = x.size / this.numFeatures;
    if (count < 2) {
      throw new ModuleConfigError(
        `${this.constructor.name}: training mode needs more than one value per channel, got input [${x.shape.join(',')}] ` +
          '(use a batch size above 1, or eval())',
      );
    }
    // Hand-written gradient (kernels/batchnorm-train): saves only x and per-channel vectors for the backward pass,
    // instead of differentiating tf.moments + tf.batchNorm (full-size tiles and intermediates kept alive).
    const { y, mean, variance } = batchNormTrain(x, this.weight, this.bias, this.eps);
    this.updateRunningStats(mean, variance, count);
    tf.dispose([mean, variance]);
    return y;
  }

  /**
   * Folds one batch's statistics into the running ones (PyTorch: unbiased variance, momentum-weighted).
   * @param mean per-channel batch mean
   * @param variance per-channel biased batch variance
   * @param count number of values per channel in the batch
   */
  updateRunningStats(mean: tf.Tensor, variance: tf.Tensor, count: number): void {
    tf.tidy(() => {
      const m = this.momentum;
      const unbiased = tf.mul(variance, count / (count - 1));
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
      this.numBatchesTracked.assign(tf.add(this.numBatchesTracked, tf.scalar(1, 'int32')));
    });
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}`;
  }
}

/** BatchNorm over NHWC images (normalizes each channel over N, H, W). */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, 4, options);
  }
}

/** BatchNorm over `[N, features]` activations. */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, 2, options);
  }
}

/** A BatchNorm layer of a model, by the names of its running-statistics buffers (as in `namedBuffers()`). */
export interface BatchNormBuffers {
  mean: string;
  variance: string;
  momentum: number;
}

/**
 * The model's BatchNorm layers with their running-statistics buffer names and momentum: what combining several
 * batches' (micro-batches', workers') running statistics into one batch's needs.
 */
export function batchNormBuffers(model: Module): BatchNormBuffers[] {
  const nameOf = new Map(model.namedBuffers().map(([n, v]) => [v, n]));
  return model
    .modulesList()
    .filter((m): m is BatchNorm => m instanceof BatchNorm)
    .flatMap((bn) => {
      const mean = nameOf.get(bn.runningMean);
      const variance = nameOf.get(bn.runningVar);
      return mean !== undefined && variance !== undefined ? [{ mean, variance, momentum: bn.momentum }] : [];
    });
}

/**
 * Classification losses: fast.ai's flattened cross-entropy, with optional label smoothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from './errors.js';

/** How per-item losses are combined. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options of {@link crossEntropyFlat}. */
export interface CrossEntropyOptions {
  /**
   * Label smoothing epsilon (fast.ai `LabelSmoothingCrossEntropy(eps)`): the per-item loss becomes
   * `eps/c * sum_j(-log p_j) + (1-eps) * (-log p_target)`. Default 0 (plain cross-entropy).
   */
  labelSmoothing?: number;
  /** Default `'mean'`. */
  reduction?: Reduction;
}

/** A loss function: logits `[N, C]`, integer targets `[N]` -> a scalar (or `[N]` with reduction `'none'`). */
export type LossFunction = (logits: tf.Tensor, targets: tf.Tensor) => tf.Tensor;

/** Flattens logits to `[N, C]` and targets to `[N]`, checking that they fit together. */
function flatten(logits: tf.Tensor, targets: tf.Tensor): { x: tf.Tensor2D; y: tf.Tensor1D } {
  if (logits.rank < 2) {
    throw new LossInputError(`cross-entropy: logits must have a class axis last ([N, C]), got shape [${logits.shape}]`);
  }
  if (logits.dtype !== 'float32') throw new LossInputError(`cross-entropy: logits must be float32, got ${logits.dtype}`);
  if (targets.dtype !== 'int32') {
    throw new LossInputError(
      `cross-entropy: targets must be int32 class indices, got ${targets.dtype} (cast with tf.cast(y, 'int32'))`,
    );
  }
  const c = logits.shape[logits.rank - 1]!;
  const n = logits.size / c;
  if (targets.size !== n) {
    throw new LossInputError(
      `cross-entropy: ${targets.size} targets (shape [${targets.shape}]) for ${n} predictions (logits shape [${logits.shape}])`,
    );
  }
  return { x: tf.reshape(logits, [n, c]), y: tf.reshape(targets, [n]) };
}

/**
 * fast.ai's `CrossEntropyFlat`: softmax cross-entropy over the last axis of `logits`, with the other axes
 * flattened, against int32 class indices. Targets outside `[0, C)` contribute `-log p = 0` terms (no error is
 * raised here, to keep the op free of data reads); the Learner checks labels before training on them.
 */
export function crossEntropyFlat(logits: tf.Tensor, targets: tf.Tensor, opts: CrossEntropyOptions = {}): tf.Tensor {
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps < 1)) throw new LossInputError(`cross-entropy: labelSmoothing must be in [0, 1), got ${eps}`);
  const reduction = opts.reduction ?? 'mean';
  return tf.tidy(() => {
    const { x, y } = flatten(logits, targets);
    const c = x.shape[1];
    const logp = tf.logSoftmax(x);
    const nll = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(y, c)), 1));
    const perItem = eps === 0 ? nll : tf.add(tf.mul(tf.neg(tf.sum(logp, 1)), eps / c), tf.mul(nll, 1 - eps));
    if (reduction === 'none') return perItem;
    if (reduction === 'sum') return tf.sum(perItem);
    return tf.mean(perItem);
  });
}

/** A {@link LossFunction} for the Learner: `crossEntropyFlat` with fixed options. */
export function crossEntropyLoss(opts: Omit<CrossEntropyOptions, 'reduction'> = {}): LossFunction {
  return (logits, targets) => crossEntropyFlat(logits, targets, { ...opts, reduction: 'mean' });
}

/**
 * Inference fast path: a convolution followed by an eval-mode BatchNorm (and an activation) is computed as one
 * fused TF.js op with the BatchNorm folded into the filter and bias. The folded tensors are cached and rebuilt
 * whenever any source variable is reassigned (a `Variable.assign` gives it a new data id) or its epsilon changes.
 * The fast path is never taken in training mode or while a gradient is being recorded, so gradients always see
 * the plain conv -> BatchNorm -> activation graph.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BatchNorm } from './batchnorm.js';

/** Activations that TF.js fuses into convolutions. */
export type FusedActivation = 'linear' | 'relu' | 'relu6';

/** Whether the fused inference path may be used for a conv and the BatchNorm after it. */
export function canFold(convTraining: boolean, bn: BatchNorm): boolean {
  return !convTraining && !bn.training && tf.engine().state.gradientDepth === 0;
}

/** Applies an activation (for the unfused path). */
export function activate<T extends tf.Tensor>(x: T, activation: FusedActivation): T {
  return activation === 'relu' ? tf.relu(x) : activation === 'relu6' ? tf.relu6(x) : x;
}

/** A conv's filter and bias with a BatchNorm folded in, cached against the source variables. */
export class FoldedConvBn {
  private key: unknown[] = [];
  filter: tf.Tensor4D | null = null;
  bias: tf.Tensor1D | null = null;

  /**
   * Returns the folded filter and bias, recomputing them when a source changed.
   * @param weight native filter: HWIO `[kh, kw, in, out]` or depthwise `[kh, kw, c, m]`
   */
  get(weight: tf.Variable, convBias: tf.Variable | null, bn: BatchNorm): { filter: tf.Tensor4D; bias: tf.Tensor1D } {
    const sources = [weight, convBias, bn.weight, bn.bias, bn.runningMean, bn.runningVar];
    const key: unknown[] = [...sources.map((v) => v?.dataId ?? null), bn.eps];
    if (this.filter === null || this.bias === null || key.some((k, i) => k !== this.key[i])) {
      this.dispose();
      const folded = tf.tidy(() => {
        const scale = tf.div(bn.weight, tf.sqrt(tf.add(bn.runningVar, bn.eps)));
        const shift = tf.sub(convBias ?? tf.zerosLike(bn.runningMean), bn.runningMean);
        const bias = tf.add(bn.bias, tf.mul(shift, scale)) as tf.Tensor1D;
        const [, , c, m] = weight.shape as [number, number, number, number];
        // conv2d: out channels are the last axis; depthwise: channel c*m+j is [c, j] of the last two axes
        const s = weight.shape[3] === scale.shape[0] ? scale : tf.reshape(scale, [c, m]);
        return { filter: tf.mul(weight, s) as tf.Tensor4D, bias };
      });
      // kept: the cache outlives the tidy scope of the forward pass that built it
      this.filter = tf.keep(folded.filter);
      this.bias = tf.keep(folded.bias);
      this.key = key;
    }
    return { filter: this.filter!, bias: this.bias! };
  }

  /** Frees the cached tensors (they are rebuilt on the next eval-mode call). */
  dispose(): void {
    if (this.filter) this.filter.dispose();
    if (this.bias) this.bias.dispose();
    this.filter = null;
    this.bias = null;
    this.key = [];
  }
}

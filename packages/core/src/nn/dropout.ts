/** Dropout. */
import * as tf from '@tensorflow/tfjs-core';
import { ModuleConfigError } from './errors.js';
import { Module } from './module.js';
import { tensorRandom, TensorRandom, type Reseedable } from './random.js';

/**
 * Zeroes each value with probability `p` in training mode (scaling the rest by 1/(1-p)); identity in eval. The
 * masks come from the layer's own seeded stream, taken from the current tensor-randomness source when the layer is
 * built (see `withSeed`, `setSeed`), or restarted with {@link Dropout.reseed}.
 */
export class Dropout extends Module implements Reseedable {
  private random: TensorRandom;

  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p < 1)) throw new ModuleConfigError(`Dropout: p must be in [0, 1), got ${p}`);
    this.random = tensorRandom().fork();
  }

  override forward<T extends tf.Tensor>(x: T): T {
    if (!this.training || this.p === 0) return x;
    return tf.dropout(x, this.p, undefined, this.random.nextSeed()) as T;
  }

  /** Restarts this layer's mask stream from `seedParts`. */
  reseed(...seedParts: number[]): void {
    this.random = new TensorRandom(...seedParts);
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}

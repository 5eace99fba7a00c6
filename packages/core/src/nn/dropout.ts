/** Dropout. */
import * as tf from '@tensorflow/tfjs-core';
import { ModuleConfigError } from './errors.js';
import { Module } from './module.js';

/** Zeroes each value with probability `p` in training mode (scaling the rest by 1/(1-p)); identity in eval. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p < 1)) throw new ModuleConfigError(`Dropout: p must be in [0, 1), got ${p}`);
  }

  override forward<T extends tf.Tensor>(x: T): T {
    if (!this.training || this.p === 0) return x;
    return tf.dropout(x, this.p) as T;
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}

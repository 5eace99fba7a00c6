/** A container applying its children in order. */
import * as tf from '@tensorflow/tfjs-core';
import { ModuleConfigError } from './errors.js';
import { Module } from './module.js';

/**
 * Applies its children in order. Children are named `0`, `1`, … (as PyTorch's `nn.Sequential`) unless given as
 * `[name, module]` pairs (as an `OrderedDict`).
 */
export class Sequential extends Module {
  private readonly layers: Module[] = [];

  constructor(...layers: Array<Module | [string, Module]>) {
    super();
    layers.forEach((entry, i) => {
      const [name, m] = Array.isArray(entry) ? entry : [String(i), entry];
      this.layers.push(this.registerModule(name, m));
    });
  }

  /** Number of children. */
  get length(): number {
    return this.layers.length;
  }

  /** The i-th child (negative counts from the end). */
  at(i: number): Module {
    const m = this.layers.at(i);
    if (m === undefined) throw new ModuleConfigError(`Sequential: no layer ${i} (it has ${this.layers.length})`);
    return m;
  }

  override forward(x: tf.Tensor): tf.Tensor {
    if (this.layers.length === 0) return x;
    return tf.tidy(() => this.layers.reduce((h, m) => m.forward(h), x));
  }
}

/** Fully connected layer. */
import * as tf from '@tensorflow/tfjs-core';
import { ModuleConfigError } from './errors.js';
import { torchDefaultBias, torchDefaultInit, type Initializer } from './init.js';
import { Module, type Parameter } from './module.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Learn a bias (default true). */
  bias?: boolean;
  /** Weight initializer for the native `[in, out]` weight (default PyTorch's). */
  init?: Initializer;
}

/** `y = x W + b` on `[N, in]` inputs. Weight is `[in, out]` natively, `[out, in]` in PyTorch state dicts. */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    this.weight = this.registerParameter('weight', (options.init ?? torchDefaultInit)([inFeatures, outFeatures]), 'linear');
    this.bias = options.bias === false ? null : this.registerParameter('bias', torchDefaultBias(outFeatures, inFeatures));
  }

  override forward(x: tf.Tensor2D): tf.Tensor2D {
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures) {
      throw new ModuleConfigError(`Linear(${this.inFeatures}, ${this.outFeatures}) got input shape [${x.shape.join(',')}]`);
    }
    return tf.fused.matMul({ a: x, b: this.weight as tf.Tensor2D, bias: this.bias ?? undefined }) as tf.Tensor2D;
  }

  protected override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/**
 * Weight initializers, following PyTorch's defaults. Shapes are native (HWIO / [in,out]). Each draw is seeded from
 * the current tensor-randomness source (see `random.ts`: `setSeed`, `withSeed`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { nextTensorSeed } from './random.js';

/** A function creating an initial weight tensor of the given native shape. */
export type Initializer = (shape: number[]) => tf.Tensor;

/** Fan-in and fan-out of a native conv (HWIO) or linear ([in,out]) weight shape. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 2) return { fanIn: shape[0]!, fanOut: shape[1]! };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: receptive * shape[shape.length - 2]!, fanOut: receptive * shape[shape.length - 1]! };
}

/** PyTorch's default for Conv2d / Linear weights: kaiming_uniform(a=√5), i.e. U(-1/√fanIn, 1/√fanIn). */
export const torchDefaultInit: Initializer = (shape) => {
  const bound = 1 / Math.sqrt(Math.max(1, fans(shape).fanIn));
  return tf.randomUniform(shape, -bound, bound, 'float32', nextTensorSeed());
};

/** kaiming_normal(mode='fan_out', nonlinearity='relu'): N(0, 2/fanOut), as torchvision initializes ResNet convs. */
export const kaimingNormalFanOut: Initializer = (shape) =>
  tf.randomNormal(shape, 0, Math.sqrt(2 / Math.max(1, fans(shape).fanOut)), 'float32', nextTensorSeed());

/** kaiming_normal(mode='fan_in', nonlinearity='relu'): N(0, 2/fanIn), fast.ai's init for new head layers. */
export const kaimingNormalFanIn: Initializer = (shape) =>
  tf.randomNormal(shape, 0, Math.sqrt(2 / Math.max(1, fans(shape).fanIn)), 'float32', nextTensorSeed());

/** PyTorch's default bias init for a layer with the given fan-in: U(-1/√fanIn, 1/√fanIn). */
export function torchDefaultBias(size: number, fanIn: number): tf.Tensor {
  const bound = 1 / Math.sqrt(Math.max(1, fanIn));
  return tf.randomUniform([size], -bound, bound, 'float32', nextTensorSeed());
}

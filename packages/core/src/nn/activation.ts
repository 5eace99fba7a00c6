/** Parameter-free layers: activations, identity, flatten. */
import * as tf from '@tensorflow/tfjs-core';
import { Module } from './module.js';

/** max(x, 0). */
export class ReLU extends Module {
  override forward<T extends tf.Tensor>(x: T): T {
    return tf.relu(x);
  }
}

/** min(max(x, 0), 6), as in MobileNet. */
export class ReLU6 extends Module {
  override forward<T extends tf.Tensor>(x: T): T {
    return tf.relu6(x);
  }
}

/** Returns its input. */
export class Identity extends Module {
  override forward<T extends tf.Tensor>(x: T): T {
    return x;
  }
}

/** Flattens every axis but the first: `[N, ...] -> [N, prod(...)]`. */
export class Flatten extends Module {
  override forward(x: tf.Tensor): tf.Tensor2D {
    return tf.reshape(x, [x.shape[0]!, -1]);
  }
}

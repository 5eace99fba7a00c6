/** Pooling layers on NHWC tensors. */
import * as tf from '@tensorflow/tfjs-core';
import { ModuleConfigError } from './errors.js';
import { Module } from './module.js';

/**
 * Max pooling with PyTorch semantics: `padding` pads symmetrically with -inf (output size floor-rounded), so
 * `MaxPool2d(3, 2, 1)` matches torchvision's ResNet stem exactly.
 */
export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: number,
    readonly stride: number = kernelSize,
    readonly padding: number = 0,
  ) {
    super();
  }

  override forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.maxPool(x, this.kernelSize, this.stride, this.padding === 0 ? 'valid' : this.padding);
  }

  protected override extraRepr(): string {
    return `kernel_size=${this.kernelSize}, stride=${this.stride}, padding=${this.padding}`;
  }
}

function checkOutputSize(name: string, outputSize: number): void {
  if (outputSize !== 1) {
    throw new ModuleConfigError(`${name}: only output size 1 (global pooling) is supported, got ${outputSize}`);
  }
}

/** Global average pooling: `[N, H, W, C] -> [N, 1, 1, C]` (PyTorch `AdaptiveAvgPool2d(1)`). */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize = 1) {
    super();
    checkOutputSize('AdaptiveAvgPool2d', outputSize);
  }

  override forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.mean(x, [1, 2], true);
  }
}

/** Global max pooling: `[N, H, W, C] -> [N, 1, 1, C]` (PyTorch `AdaptiveMaxPool2d(1)`). */
export class AdaptiveMaxPool2d extends Module {
  constructor(readonly outputSize = 1) {
    super();
    checkOutputSize('AdaptiveMaxPool2d', outputSize);
  }

  override forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.max(x, [1, 2], true);
  }
}

/**
 * fast.ai's AdaptiveConcatPool2d: global max pooling and global average pooling concatenated on channels
 * (max first), `[N, H, W, C] -> [N, 1, 1, 2C]`.
 */
export class AdaptiveConcatPool2d extends Module {
  readonly mp: AdaptiveMaxPool2d;
  readonly ap: AdaptiveAvgPool2d;

  constructor(readonly outputSize = 1) {
    super();
    this.ap = this.registerModule('ap', new AdaptiveAvgPool2d(outputSize));
    this.mp = this.registerModule('mp', new AdaptiveMaxPool2d(outputSize));
  }

  override forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => tf.concat([this.mp.forward(x), this.ap.forward(x)], 3));
  }
}

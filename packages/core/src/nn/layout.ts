/**
 * Weight layouts: the module system stores weights the way TF.js ops want them (NHWC world), while PyTorch
 * checkpoints store them channels-first. These helpers convert between the two.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * How a tensor's PyTorch layout relates to its native (TF.js) layout.
 * - `conv2d`: torch OIHW `[out, in, kh, kw]` <-> native HWIO `[kh, kw, in, out]`
 * - `depthwise`: torch `[c*m, 1, kh, kw]` <-> native `[kh, kw, c, m]` (m = depth multiplier)
 * - `linear`: torch `[out, in]` <-> native `[in, out]`
 * - `none`: same in both (biases, BatchNorm vectors, scalars)
 */
export type TorchLayout = 'conv2d' | 'depthwise' | 'linear' | 'none';

/** Which layout a state dict is in: PyTorch's (`torch`, the default) or the module's own (`native`). */
export type StateDictLayout = 'torch' | 'native';

/** The PyTorch shape of a tensor whose native shape is `native`. */
export function torchShapeOf(native: readonly number[], layout: TorchLayout): number[] {
  switch (layout) {
    case 'conv2d': {
      const [kh, kw, cin, cout] = native as [number, number, number, number];
      return [cout, cin, kh, kw];
    }
    case 'depthwise': {
      const [kh, kw, c, m] = native as [number, number, number, number];
      return [c * m, 1, kh, kw];
    }
    case 'linear': {
      const [cin, cout] = native as [number, number];
      return [cout, cin];
    }
    default:
      return [...native];
  }
}

/** Converts a tensor from PyTorch layout to native layout (a new tensor; the input is not disposed). */
export function torchToNative(t: tf.Tensor, layout: TorchLayout, nativeShape: readonly number[]): tf.Tensor {
  switch (layout) {
    case 'conv2d':
      return tf.transpose(t, [2, 3, 1, 0]);
    case 'depthwise':
      return tf.tidy(() => tf.reshape(tf.transpose(t, [2, 3, 0, 1]), [...nativeShape]));
    case 'linear':
      return tf.transpose(t, [1, 0]);
    default:
      return tf.clone(t);
  }
}

/** Converts a tensor from native layout to PyTorch layout (a new tensor; the input is not disposed). */
export function nativeToTorch(t: tf.Tensor, layout: TorchLayout): tf.Tensor {
  switch (layout) {
    case 'conv2d':
      return tf.transpose(t, [3, 2, 0, 1]);
    case 'depthwise': {
      const [kh, kw, c, m] = t.shape as [number, number, number, number];
      return tf.tidy(() => tf.transpose(tf.reshape(t, [kh, kw, c * m, 1]), [2, 3, 0, 1]));
    }
    case 'linear':
      return tf.transpose(t, [1, 0]);
    default:
      return tf.clone(t);
  }
}

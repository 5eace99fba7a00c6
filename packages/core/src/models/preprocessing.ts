/** Input normalizations of the pretrained architectures. */
import * as tf from '@tensorflow/tfjs-core';

/**
 * How an architecture's pretrained weights expect their input, given RGB pixel values 0..255:
 * `out = x * scale + offset` per RGB channel, then channels reversed to BGR when `bgr`.
 */
export interface Preprocessing {
  /** `imagenet` (torchvision: /255, ImageNet mean/std), `caffe` (BGR, mean subtraction), `tf` (x/127.5 - 1). */
  readonly name: 'imagenet' | 'caffe' | 'tf';
  /** Per RGB channel multiplier applied to 0..255 pixel values. */
  readonly scale: readonly [number, number, number];
  /** Per RGB channel offset added after scaling. */
  readonly offset: readonly [number, number, number];
  /** Reverse the channel order (RGB -> BGR) after scaling. */
  readonly bgr: boolean;
  /** Human-readable description. */
  readonly description: string;
}

/** ImageNet channel means (RGB, 0..1 scale), as torchvision and fast.ai's `imagenet_stats`. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
/** ImageNet channel standard deviations (RGB, 0..1 scale). */
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** torchvision / fast.ai: `(x / 255 - mean) / std` with ImageNet statistics. */
export const IMAGENET_PREPROCESSING: Preprocessing = {
  name: 'imagenet',
  scale: [0, 1, 2].map((c) => 1 / (255 * IMAGENET_STD[c]!)) as unknown as [number, number, number],
  offset: [0, 1, 2].map((c) => -IMAGENET_MEAN[c]! / IMAGENET_STD[c]!) as unknown as [number, number, number],
  bgr: false,
  description: '(x/255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]',
};

/** Keras "caffe" mode (ResNet50 v1): RGB -> BGR and subtract the BGR means [103.939, 116.779, 123.68]; no scaling. */
export const CAFFE_PREPROCESSING: Preprocessing = {
  name: 'caffe',
  scale: [1, 1, 1],
  offset: [-123.68, -116.779, -103.939],
  bgr: true,
  description: 'RGB->BGR, x - [103.939, 116.779, 123.68] (BGR order)',
};

/** Keras "tf" mode (MobileNet): `x / 127.5 - 1`. */
export const TF_PREPROCESSING: Preprocessing = {
  name: 'tf',
  scale: [1 / 127.5, 1 / 127.5, 1 / 127.5],
  offset: [-1, -1, -1],
  bgr: false,
  description: 'x/127.5 - 1',
};

/**
 * Applies a preprocessing to an NHWC float32 batch of RGB pixel values 0..255 (returns a new tensor).
 */
export function applyPreprocessing(p: Preprocessing, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const y = tf.add(tf.mul(x, tf.tensor1d([...p.scale])), tf.tensor1d([...p.offset])) as tf.Tensor4D;
    return p.bgr ? tf.reverse(y, -1) : y;
  });
}

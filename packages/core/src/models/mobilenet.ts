/**
 * Keras MobileNet v1 (the TF.js layers exports `mobilenet_v1_<alpha>_224`): `conv1` (3x3/2, 'same'),
 * `conv1_bn`, then 13 depthwise-separable blocks `conv_dw_i` / `conv_dw_i_bn` / `conv_pw_i` / `conv_pw_i_bn`,
 * ReLU6 everywhere, no conv biases, BatchNorm epsilon 1e-3; the classifier is a 1x1 conv `conv_preds` (with bias)
 * on the globally pooled features. TensorFlow 'same' padding (asymmetric for stride 2) is kept, as in the
 * weights' training; it equals newer Keras' ZeroPadding((0,1),(0,1)) + 'valid' for even input sizes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { Conv2d, DepthwiseConv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { ModuleConfigError } from '../nn/errors.js';
import { type Module } from '../nn/module.js';
import { ArchModel, type ArchModelOptions } from './arch-model.js';

/** BatchNorm epsilon of Keras MobileNet v1 (model.json: 0.001). */
export const MOBILENET_BN_EPS = 1e-3;

/** The width multipliers with published ImageNet weights. */
export const MOBILENET_ALPHAS = [0.25, 0.5, 0.75, 1.0] as const;

/** Pointwise filters and depthwise stride of the 13 blocks (before the width multiplier). */
const BLOCKS: Array<[number, number]> = [
  [64, 1],
  [128, 2],
  [128, 1],
  [256, 2],
  [256, 1],
  [512, 2],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [512, 1],
  [1024, 2],
  [1024, 1],
];

interface SeparableBlock {
  dw: DepthwiseConv2d;
  dwBn: BatchNorm2d;
  pw: Conv2d;
  pwBn: BatchNorm2d;
}

/** Options of {@link MobileNetV1}. */
export interface MobileNetV1Options extends ArchModelOptions {
  /** Width multiplier (0.25, 0.5, 0.75, 1.0). */
  alpha: number;
  /** Dropout rate before the classifier (Keras default 1e-3). */
  dropout?: number;
}

/** Keras MobileNet v1. Body = up to `conv_pw_13_relu`. */
export class MobileNetV1 extends ArchModel {
  readonly arch: string;
  readonly nf: number;
  readonly alpha: number;
  readonly headKeyPrefixes = ['conv_preds.'] as const;
  readonly conv1: Conv2d;
  readonly conv1Bn: BatchNorm2d;
  readonly dropout: Dropout | null = null;
  readonly convPreds: Conv2d | null = null;
  private readonly blocks: SeparableBlock[] = [];

  constructor(arch: string, options: MobileNetV1Options) {
    super(options);
    this.arch = arch;
    this.alpha = options.alpha;
    if (!(this.alpha > 0 && this.alpha <= 4)) throw new ModuleConfigError(`MobileNetV1: invalid alpha ${this.alpha}`);
    const eps = MOBILENET_BN_EPS;
    const width = (f: number): number => Math.trunc(f * this.alpha);
    let cin = width(32);
    this.conv1 = this.registerModule('conv1', new Conv2d(3, cin, 3, { stride: 2, padding: 'same', bias: false }));
    this.conv1Bn = this.registerModule('conv1_bn', new BatchNorm2d(cin, { eps }));
    BLOCKS.forEach(([filters, stride], i) => {
      const id = i + 1;
      const cout = width(filters);
      this.blocks.push({
        dw: this.registerModule(`conv_dw_${id}`, new DepthwiseConv2d(cin, 3, { stride, padding: 'same' })),
        dwBn: this.registerModule(`conv_dw_${id}_bn`, new BatchNorm2d(cin, { eps })),
        pw: this.registerModule(`conv_pw_${id}`, new Conv2d(cin, cout, 1, { padding: 'same', bias: false })),
        pwBn: this.registerModule(`conv_pw_${id}_bn`, new BatchNorm2d(cout, { eps })),
      });
      cin = cout;
    });
    this.nf = cin;
    if (this.includeTop) {
      this.dropout = this.registerModule('dropout', new Dropout(options.dropout ?? 1e-3));
      this.convPreds = this.registerModule('conv_preds', new Conv2d(cin, this.numClasses, 1, { padding: 'same' }));
    }
  }

  /** The body's output: `[N, H/32, W/32, nf]`. */
  features(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let h = this.conv1.forwardBn(x, this.conv1Bn, 'relu6');
      for (const b of this.blocks) {
        h = b.dw.forwardBn(h, b.dwBn, 'relu6');
        h = b.pw.forwardBn(h, b.pwBn, 'relu6');
      }
      return h;
    });
  }

  override forward(x: tf.Tensor4D): tf.Tensor {
    if (this.convPreds === null || this.dropout === null) return this.features(x);
    const [dropout, convPreds] = [this.dropout, this.convPreds];
    return tf.tidy(() => {
      const pooled = tf.mean(this.features(x), [1, 2], true) as tf.Tensor4D;
      const logits = convPreds.forward(dropout.forward(pooled));
      return tf.reshape(logits, [x.shape[0], this.numClasses]);
    });
  }

  private blockModules(from: number, to: number): Module[] {
    return this.blocks.slice(from, to).flatMap((b) => [b.dw, b.dwBn, b.pw, b.pwBn]);
  }

  /** [conv1 .. block 5] (stride <= 8), [blocks 6..13] (stride 16-32), then [conv_preds] with `includeTop`. */
  layerGroups(): Module[][] {
    const groups: Module[][] = [[this.conv1, this.conv1Bn, ...this.blockModules(0, 5)], this.blockModules(5, 13)];
    if (this.dropout && this.convPreds) groups.push([this.dropout, this.convPreds]);
    return groups;
  }
}

/**
 * Keras ResNet50 v1 (keras-applications 1.0.x / Keras 2.2): layer names `conv1`, `bn_conv1`,
 * `res2a_branch2a`, `bn2a_branch2a`, …, `fc1000`; conv biases; the stride-2 of a stage's first block sits on its
 * first 1x1 conv (v1, unlike torchvision's v1.5); BatchNorm epsilon 1e-3 (Keras' default, as recorded in the
 * TF.js export's model.json — newer Keras' `resnet_common` uses 1.001e-5 with other layer names).
 * State-dict names are `<keras layer>.<torch param>`, e.g. `res2a_branch2a.weight`, `bn2a_branch2a.running_var`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { Conv2d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import { type Module } from '../nn/module.js';
import { MaxPool2d } from '../nn/pooling.js';
import { ArchModel, type ArchModelOptions } from './arch-model.js';

/** BatchNorm epsilon of the Keras 2.2 ResNet50 (its model.json says 0.001). */
export const KERAS_RESNET50_BN_EPS = 1e-3;

interface KerasBottleneck {
  name: string;
  branch2a: Conv2d;
  bn2a: BatchNorm2d;
  branch2b: Conv2d;
  bn2b: BatchNorm2d;
  branch2c: Conv2d;
  bn2c: BatchNorm2d;
  branch1: Conv2d | null;
  bn1: BatchNorm2d | null;
}

/** Keras ResNet50 v1 with its original (flat) layer names. Body = up to the last block's activation. */
export class KerasResNet50 extends ArchModel {
  readonly arch: string;
  readonly nf = 2048;
  readonly headKeyPrefixes = ['fc1000.'] as const;
  readonly conv1: Conv2d;
  readonly bnConv1: BatchNorm2d;
  readonly pool1: MaxPool2d;
  readonly fc1000: Linear | null = null;
  /** Blocks by stage (2..5), each with its named layers. */
  private readonly stages: KerasBottleneck[][] = [];

  constructor(arch = 'resnet50-keras', options: ArchModelOptions = {}) {
    super(options);
    this.arch = arch;
    const eps = KERAS_RESNET50_BN_EPS;
    // ZeroPadding2D(3) + valid 7x7/2 conv == symmetric padding 3.
    this.conv1 = this.registerModule('conv1', new Conv2d(3, 64, 7, { stride: 2, padding: 3 }));
    this.bnConv1 = this.registerModule('bn_conv1', new BatchNorm2d(64, { eps }));
    // ZeroPadding2D(1) + valid 3x3/2 max pool after a ReLU == max pool with padding 1 (inputs are >= 0).
    this.pool1 = this.registerModule('max_pooling2d', new MaxPool2d(3, 2, 1));
    const stageSpecs: Array<[number, number[], number]> = [
      [2, [64, 64, 256], 3],
      [3, [128, 128, 512], 4],
      [4, [256, 256, 1024], 6],
      [5, [512, 512, 2048], 3],
    ];
    let cin = 64;
    for (const [stage, [f1, f2, f3], blocks] of stageSpecs as Array<[number, [number, number, number], number]>) {
      const stageBlocks: KerasBottleneck[] = [];
      for (let b = 0; b < blocks; b++) {
        const id = `${stage}${String.fromCharCode(97 + b)}`;
        const stride = b === 0 && stage > 2 ? 2 : 1;
        const conv = (name: string, ci: number, co: number, k: number, s = 1): Conv2d =>
          this.registerModule(name, new Conv2d(ci, co, k, { stride: s, padding: k === 3 ? 'same' : 'valid' }));
        const norm = (name: string, c: number): BatchNorm2d => this.registerModule(name, new BatchNorm2d(c, { eps }));
        const block: KerasBottleneck = {
          name: `res${id}`,
          branch2a: conv(`res${id}_branch2a`, cin, f1, 1, stride),
          bn2a: norm(`bn${id}_branch2a`, f1),
          branch2b: conv(`res${id}_branch2b`, f1, f2, 3),
          bn2b: norm(`bn${id}_branch2b`, f2),
          branch2c: conv(`res${id}_branch2c`, f2, f3, 1),
          bn2c: norm(`bn${id}_branch2c`, f3),
          branch1: b === 0 ? conv(`res${id}_branch1`, cin, f3, 1, stride) : null,
          bn1: b === 0 ? norm(`bn${id}_branch1`, f3) : null,
        };
        stageBlocks.push(block);
        cin = f3;
      }
      this.stages.push(stageBlocks);
    }
    if (this.includeTop) this.fc1000 = this.registerModule('fc1000', new Linear(2048, this.numClasses));
  }

  private block(b: KerasBottleneck, x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let h = b.branch2a.forwardBn(x, b.bn2a, 'relu');
      h = b.branch2b.forwardBn(h, b.bn2b, 'relu');
      h = b.branch2c.forwardBn(h, b.bn2c);
      const shortcut = b.branch1 && b.bn1 ? b.branch1.forwardBn(x, b.bn1) : x;
      return tf.relu(tf.add(h, shortcut)) as tf.Tensor4D;
    });
  }

  /** The body's output: `[N, H/32, W/32, 2048]`. */
  features(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let h = this.pool1.forward(this.conv1.forwardBn(x, this.bnConv1, 'relu'));
      for (const stage of this.stages) for (const b of stage) h = this.block(b, h);
      return h;
    });
  }

  override forward(x: tf.Tensor4D): tf.Tensor {
    if (this.fc1000 === null) return this.features(x);
    const fc = this.fc1000;
    return tf.tidy(() => fc.forward(tf.mean(this.features(x), [1, 2]) as tf.Tensor2D));
  }

  private stageModules(stage: KerasBottleneck[]): Module[] {
    return stage.flatMap((b) =>
      [b.branch2a, b.bn2a, b.branch2b, b.bn2b, b.branch2c, b.bn2c, b.branch1, b.bn1].filter(
        (m): m is Conv2d | BatchNorm2d => m !== null,
      ),
    );
  }

  /** [stem + stages 2-3], [stages 4-5], then [fc1000] with `includeTop` (as torchvision's layer1-2 / layer3-4). */
  layerGroups(): Module[][] {
    const [s2, s3, s4, s5] = this.stages as [KerasBottleneck[], KerasBottleneck[], KerasBottleneck[], KerasBottleneck[]];
    const groups: Module[][] = [
      [this.conv1, this.bnConv1, this.pool1, ...this.stageModules(s2), ...this.stageModules(s3)],
      [...this.stageModules(s4), ...this.stageModules(s5)],
    ];
    if (this.fc1000) groups.push([this.fc1000]);
    return groups;
  }
}

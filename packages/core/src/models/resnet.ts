/**
 * ResNet exactly as torchvision builds it (v1.5: in a Bottleneck the stride sits on the 3x3 conv), so that
 * torchvision / timm checkpoints load by name: `conv1`, `bn1`, `layer1.0.conv1`, `layer2.0.downsample.0`, `fc`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { Conv2d } from '../nn/conv.js';
import { kaimingNormalFanOut } from '../nn/init.js';
import { ReLU } from '../nn/activation.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../nn/pooling.js';
import { Sequential } from '../nn/sequential.js';
import { ArchModel, type ArchModelOptions } from './arch-model.js';

const BN_EPS = 1e-5;

function conv3x3(cin: number, cout: number, stride = 1): Conv2d {
  return new Conv2d(cin, cout, 3, { stride, padding: 1, bias: false, init: kaimingNormalFanOut });
}

function conv1x1(cin: number, cout: number, stride = 1): Conv2d {
  return new Conv2d(cin, cout, 1, { stride, bias: false, init: kaimingNormalFanOut });
}

function bn(c: number): BatchNorm2d {
  return new BatchNorm2d(c, { eps: BN_EPS });
}

/** The shortcut of a block: `x`, or `downsample` = Sequential(1x1 conv, BatchNorm) applied to it. */
function shortcut(downsample: Sequential | null, x: tf.Tensor4D): tf.Tensor4D {
  if (downsample === null) return x;
  return (downsample.at(0) as Conv2d).forwardBn(x, downsample.at(1) as BatchNorm2d);
}

/** A residual block; `downsample` (1x1 conv + BN) adapts the shortcut when the shape changes. */
interface ResidualBlock extends Module {
  forward(x: tf.Tensor4D): tf.Tensor4D;
}

/** torchvision's BasicBlock (ResNet-18/34): two 3x3 convs. */
export class BasicBlock extends Module implements ResidualBlock {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu: ReLU;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inplanes: number, planes: number, stride = 1, downsample: Sequential | null = null) {
    super();
    this.conv1 = this.registerModule('conv1', conv3x3(inplanes, planes, stride));
    this.bn1 = this.registerModule('bn1', bn(planes));
    this.relu = this.registerModule('relu', new ReLU());
    this.conv2 = this.registerModule('conv2', conv3x3(planes, planes));
    this.bn2 = this.registerModule('bn2', bn(planes));
    this.downsample = downsample ? this.registerModule('downsample', downsample) : null;
  }

  override forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let out = this.conv1.forwardBn(x, this.bn1, 'relu');
      out = this.conv2.forwardBn(out, this.bn2);
      return tf.relu(tf.add(out, shortcut(this.downsample, x))) as tf.Tensor4D;
    });
  }
}

/** torchvision's Bottleneck (ResNet-50+): 1x1 reduce, 3x3 (strided, v1.5), 1x1 expand (x4). */
export class Bottleneck extends Module implements ResidualBlock {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly relu: ReLU;
  readonly downsample: Sequential | null;

  constructor(inplanes: number, planes: number, stride = 1, downsample: Sequential | null = null) {
    super();
    this.conv1 = this.registerModule('conv1', conv1x1(inplanes, planes));
    this.bn1 = this.registerModule('bn1', bn(planes));
    this.conv2 = this.registerModule('conv2', conv3x3(planes, planes, stride));
    this.bn2 = this.registerModule('bn2', bn(planes));
    this.conv3 = this.registerModule('conv3', conv1x1(planes, planes * Bottleneck.expansion));
    this.bn3 = this.registerModule('bn3', bn(planes * Bottleneck.expansion));
    this.relu = this.registerModule('relu', new ReLU());
    this.downsample = downsample ? this.registerModule('downsample', downsample) : null;
  }

  override forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let out = this.conv1.forwardBn(x, this.bn1, 'relu');
      out = this.conv2.forwardBn(out, this.bn2, 'relu');
      out = this.conv3.forwardBn(out, this.bn3);
      return tf.relu(tf.add(out, shortcut(this.downsample, x))) as tf.Tensor4D;
    });
  }
}

/** Block type and blocks per stage of a ResNet depth. */
export interface ResNetConfig {
  block: 'basic' | 'bottleneck';
  layers: [number, number, number, number];
}

/** The torchvision ResNet depths. */
export const RESNET_CONFIGS: Record<string, ResNetConfig> = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2] },
  resnet34: { block: 'basic', layers: [3, 4, 6, 3] },
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
  resnet101: { block: 'bottleneck', layers: [3, 4, 23, 3] },
  resnet152: { block: 'bottleneck', layers: [3, 8, 36, 3] },
};

/** torchvision's ResNet. Body = everything before `avgpool` (fast.ai's cut at -2). */
export class ResNet extends ArchModel {
  readonly arch: string;
  readonly nf: number;
  readonly headKeyPrefixes = ['fc.'] as const;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu: ReLU;
  readonly maxpool: MaxPool2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  readonly avgpool: AdaptiveAvgPool2d | null = null;
  readonly fc: Linear | null = null;

  constructor(arch: string, config: ResNetConfig, options: ArchModelOptions = {}) {
    super(options);
    this.arch = arch;
    const Block = config.block === 'basic' ? BasicBlock : Bottleneck;
    let inplanes = 64;
    const makeLayer = (planes: number, blocks: number, stride: number): Sequential => {
      let downsample: Sequential | null = null;
      if (stride !== 1 || inplanes !== planes * Block.expansion) {
        downsample = new Sequential(conv1x1(inplanes, planes * Block.expansion, stride), bn(planes * Block.expansion));
      }
      const layers: Module[] = [new Block(inplanes, planes, stride, downsample)];
      inplanes = planes * Block.expansion;
      for (let i = 1; i < blocks; i++) layers.push(new Block(inplanes, planes));
      return new Sequential(...layers);
    };
    this.conv1 = this.registerModule(
      'conv1',
      new Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false, init: kaimingNormalFanOut }),
    );
    this.bn1 = this.registerModule('bn1', bn(64));
    this.relu = this.registerModule('relu', new ReLU());
    this.maxpool = this.registerModule('maxpool', new MaxPool2d(3, 2, 1));
    this.layer1 = this.registerModule('layer1', makeLayer(64, config.layers[0], 1));
    this.layer2 = this.registerModule('layer2', makeLayer(128, config.layers[1], 2));
    this.layer3 = this.registerModule('layer3', makeLayer(256, config.layers[2], 2));
    this.layer4 = this.registerModule('layer4', makeLayer(512, config.layers[3], 2));
    this.nf = 512 * Block.expansion;
    if (this.includeTop) {
      this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
      this.fc = this.registerModule('fc', new Linear(this.nf, this.numClasses));
    }
  }

  /** The body's output: `[N, H/32, W/32, nf]`. */
  features(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let h = this.maxpool.forward(this.conv1.forwardBn(x, this.bn1, 'relu'));
      for (const layer of [this.layer1, this.layer2, this.layer3, this.layer4]) h = layer.forward(h) as tf.Tensor4D;
      return h;
    });
  }

  override forward(x: tf.Tensor4D): tf.Tensor {
    if (this.fc === null) return this.features(x);
    const fc = this.fc;
    return tf.tidy(() => fc.forward(tf.mean(this.features(x), [1, 2]) as tf.Tensor2D));
  }

  layerGroups(): Module[][] {
    const groups: Module[][] = [
      [this.conv1, this.bn1, this.relu, this.maxpool, this.layer1, this.layer2],
      [this.layer3, this.layer4],
    ];
    if (this.avgpool && this.fc) groups.push([this.avgpool, this.fc]);
    return groups;
  }
}

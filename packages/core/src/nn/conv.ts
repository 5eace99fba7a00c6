/** Convolutions with PyTorch padding semantics on NHWC tensors. */
import * as tf from '@tensorflow/tfjs-core';
import '../kernels/fused-conv-gradient.js';
import type { BatchNorm } from './batchnorm.js';
import { ModuleConfigError } from './errors.js';
import { activate, canFold, FoldedConvBn, type FusedActivation } from './fold.js';
import { torchDefaultBias, torchDefaultInit, type Initializer } from './init.js';
import { Module, type Parameter } from './module.js';

/**
 * Padding of a 2-d convolution or pooling:
 * - a number `p` or `[ph, pw]`: symmetric zero padding as in PyTorch (`padding=p`), the same on both sides even
 *   for stride 2 (TF.js' `'same'` pads asymmetrically there, which would not match PyTorch weights);
 * - `'same'` / `'valid'`: TensorFlow/Keras semantics (for Keras-trained weights).
 */
export type Padding2d = number | [number, number] | 'same' | 'valid';

/** The TF.js `pad` argument equivalent to a {@link Padding2d}. */
export type TfPad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/** Converts a {@link Padding2d} into the TF.js `pad` argument (explicit pads for PyTorch-style padding). */
export function toTfPad(padding: Padding2d): TfPad {
  if (padding === 'same' || padding === 'valid') return padding;
  const [ph, pw] = typeof padding === 'number' ? [padding, padding] : padding;
  if (ph === 0 && pw === 0) return 'valid';
  return [
    [0, 0],
    [ph, ph],
    [pw, pw],
    [0, 0],
  ];
}

function pair(v: number | [number, number], what: string): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : v;
  if (!p.every((n) => Number.isInteger(n) && n >= 0)) throw new ModuleConfigError(`invalid ${what}: ${String(v)}`);
  return p;
}

/** Options of {@link Conv2d}. */
export interface Conv2dOptions {
  stride?: number | [number, number];
  /** PyTorch-style symmetric padding (default 0) or Keras `'same'`/`'valid'`. */
  padding?: Padding2d;
  dilation?: number | [number, number];
  /** Learn a bias (default true, as in PyTorch). */
  bias?: boolean;
  /** Weight initializer (default PyTorch's kaiming_uniform(a=√5)). */
  init?: Initializer;
}

/** 2-d convolution, NHWC. Weight `weight` is HWIO `[kh, kw, in, out]` (PyTorch OIHW in state dicts). */
export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  readonly padding: Padding2d;
  readonly pad: TfPad;
  private readonly fold = new FoldedConvBn();

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | [number, number],
    options: Conv2dOptions = {},
  ) {
    super();
    this.kernelSize = pair(kernelSize, 'kernel size');
    this.stride = pair(options.stride ?? 1, 'stride');
    this.dilation = pair(options.dilation ?? 1, 'dilation');
    this.padding = options.padding ?? 0;
    this.pad = toTfPad(this.padding);
    const shape = [...this.kernelSize, inChannels, outChannels];
    this.weight = this.registerParameter('weight', (options.init ?? torchDefaultInit)(shape), 'conv2d');
    const fanIn = inChannels * this.kernelSize[0] * this.kernelSize[1];
    this.bias = options.bias === false ? null : this.registerParameter('bias', torchDefaultBias(outChannels, fanIn));
  }

  override forward(x: tf.Tensor4D): tf.Tensor4D {
    const filter = this.weight as tf.Tensor4D;
    if (this.bias === null) return tf.conv2d(x, filter, this.stride, this.pad, 'NHWC', this.dilation);
    if (this.training && this.dilation[0] === 1 && this.dilation[1] === 1) {
      // Training: the FusedConv2D kernel with fastts' per-input gradient (kernels/fused-conv-gradient.ts), not
      // tf.fused.conv2d, whose gradient computes the input, filter and bias gradients whether or not needed.
      const attrs = {
        strides: this.stride,
        pad: this.pad,
        dataFormat: 'NHWC',
        dilations: this.dilation,
        activation: 'linear',
        leakyreluAlpha: 0,
      };
      return tf.engine().runKernel('FusedConv2D', { x, filter, bias: this.bias }, attrs as never) as tf.Tensor4D;
    }
    return tf.fused.conv2d({
      x,
      filter,
      strides: this.stride,
      pad: this.pad,
      dilations: this.dilation,
      bias: this.bias,
    });
  }

  /**
   * `activation(bn(conv(x)))`. In eval mode (and outside gradient recording) this is a single fused conv with
   * the BatchNorm folded into filter and bias; otherwise the three ops run as usual (BatchNorm statistics
   * update in training mode). Same result either way, up to float rounding.
   */
  forwardBn(x: tf.Tensor4D, bn: BatchNorm, activation: FusedActivation = 'linear'): tf.Tensor4D {
    if (!canFold(this.training, bn)) {
      this.fold.dispose();
      return tf.tidy(() => activate(bn.forward(this.forward(x)), activation));
    }
    const { filter, bias } = this.fold.get(this.weight, this.bias, bn);
    return tf.fused.conv2d({ x, filter, bias, strides: this.stride, pad: this.pad, dilations: this.dilation, activation });
  }

  override dispose(): void {
    this.fold.dispose();
    super.dispose();
  }

  protected override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel_size=${this.kernelSize.join('x')}, stride=${this.stride.join('x')}, padding=${JSON.stringify(this.padding)}, bias=${this.bias !== null}`;
  }
}

/** Options of {@link DepthwiseConv2d}. */
export interface DepthwiseConv2dOptions extends Omit<Conv2dOptions, 'bias'> {
  /** Output channels per input channel (default 1). */
  depthMultiplier?: number;
  /** Learn a bias (default false, as Keras' DepthwiseConv2D in MobileNet). */
  bias?: boolean;
}

/**
 * Depthwise 2-d convolution (PyTorch `Conv2d(c, c*m, k, groups=c)`, Keras `DepthwiseConv2D`), NHWC.
 * Weight is `[kh, kw, c, m]` natively, `[c*m, 1, kh, kw]` in PyTorch state dicts.
 */
export class DepthwiseConv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  readonly depthMultiplier: number;
  readonly padding: Padding2d;
  readonly pad: TfPad;
  private readonly fold = new FoldedConvBn();

  constructor(
    readonly channels: number,
    kernelSize: number | [number, number],
    options: DepthwiseConv2dOptions = {},
  ) {
    super();
    this.kernelSize = pair(kernelSize, 'kernel size');
    this.stride = pair(options.stride ?? 1, 'stride');
    this.dilation = pair(options.dilation ?? 1, 'dilation');
    this.depthMultiplier = options.depthMultiplier ?? 1;
    this.padding = options.padding ?? 0;
    this.pad = toTfPad(this.padding);
    const shape = [...this.kernelSize, channels, this.depthMultiplier];
    this.weight = this.registerParameter('weight', (options.init ?? torchDefaultInit)(shape), 'depthwise');
    const fanIn = this.kernelSize[0] * this.kernelSize[1];
    this.bias =
      options.bias === true ? this.registerParameter('bias', torchDefaultBias(channels * this.depthMultiplier, fanIn)) : null;
  }

  override forward(x: tf.Tensor4D): tf.Tensor4D {
    const filter = this.weight as tf.Tensor4D;
    if (this.bias === null) return tf.depthwiseConv2d(x, filter, this.stride, this.pad, 'NHWC', this.dilation);
    if (typeof this.pad !== 'string') {
      // tf.fused.depthwiseConv2d takes no explicit padding: conv then add.
      const bias = this.bias;
      return tf.tidy(() => tf.add(tf.depthwiseConv2d(x, filter, this.stride, this.pad, 'NHWC', this.dilation), bias));
    }
    return tf.fused.depthwiseConv2d({
      x,
      filter,
      strides: this.stride,
      pad: this.pad,
      dilations: this.dilation,
      bias: this.bias,
    });
  }

  /** `activation(bn(depthwise(x)))`, fused in eval mode as {@link Conv2d.forwardBn}. */
  forwardBn(x: tf.Tensor4D, bn: BatchNorm, activation: FusedActivation = 'linear'): tf.Tensor4D {
    if (!canFold(this.training, bn) || typeof this.pad !== 'string') {
      this.fold.dispose();
      return tf.tidy(() => activate(bn.forward(this.forward(x)), activation));
    }
    const { filter, bias } = this.fold.get(this.weight, this.bias, bn);
    return tf.fused.depthwiseConv2d({
      x,
      filter,
      bias,
      strides: this.stride,
      pad: this.pad,
      dilations: this.dilation,
      activation,
    });
  }

  override dispose(): void {
    this.fold.dispose();
    super.dispose();
  }

  protected override extraRepr(): string {
    return `${this.channels}, kernel_size=${this.kernelSize.join('x')}, stride=${this.stride.join('x')}, padding=${JSON.stringify(this.padding)}, depth_multiplier=${this.depthMultiplier}`;
  }
}

/**
 * ONNX emitters for the `nn` layers, in eval mode: a convolution and the BatchNorm after it become one `Conv` with
 * the BatchNorm folded into its weights (as fastts' own fused inference path does), ReLU6 is `Clip(0, 6)`, a lone
 * BatchNorm is a per-channel `Mul` + `Add`, Dropout disappears. Graph values are NCHW (ONNX's layout); weights are
 * read in PyTorch's layout, which is ONNX's (OIHW convolutions, `[out, in]` linear weights).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { BatchNorm } from '../nn/batchnorm.js';
import type { Conv2d, DepthwiseConv2d, Padding2d } from '../nn/conv.js';
import { nativeToTorch } from '../nn/layout.js';
import type { Linear } from '../nn/linear.js';
import type { MaxPool2d } from '../nn/pooling.js';
import { OnnxExportError } from './errors.js';
import { attr, type OnnxGraphBuilder, type OnnxValue } from './graph-builder.js';

/** The activations fastts fuses after a convolution. */
export type OnnxActivation = 'linear' | 'relu' | 'relu6';

/** A tensor's values as float32 (a copy the caller owns). */
export async function float32Values(t: tf.Tensor): Promise<Float32Array> {
  const d = await t.data();
  return d instanceof Float32Array ? d.slice() : Float32Array.from(d as ArrayLike<number>);
}

/** `[before, after]` padding of TensorFlow's `'same'` along one axis (more after than before when odd). */
export function samePadding(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** ONNX `pads` `[top, left, bottom, right]` of a {@link Padding2d} on an `h x w` input. */
export function onnxPads(
  padding: Padding2d,
  [h, w]: readonly [number, number],
  kernel: readonly [number, number],
  stride: readonly [number, number],
  dilation: readonly [number, number],
): [number, number, number, number] {
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') {
    const [top, bottom] = samePadding(h, kernel[0], stride[0], dilation[0]);
    const [left, right] = samePadding(w, kernel[1], stride[1], dilation[1]);
    return [top, left, bottom, right];
  }
  const [ph, pw] = typeof padding === 'number' ? [padding, padding] : padding;
  return [ph, pw, ph, pw];
}

function outSize(size: number, before: number, after: number, kernel: number, stride: number, dilation: number): number {
  return Math.floor((size + before + after - (dilation * (kernel - 1) + 1)) / stride) + 1;
}

/** `x * scale + shift` per channel of a BatchNorm in eval mode (float64 arithmetic). */
async function batchNormAffine(bn: BatchNorm): Promise<{ scale: Float64Array; shift: Float64Array }> {
  const [gamma, beta, mean, variance] = await Promise.all([bn.weight, bn.bias, bn.runningMean, bn.runningVar].map(float32Values));
  const scale = new Float64Array(bn.numFeatures);
  const shift = new Float64Array(bn.numFeatures);
  for (let c = 0; c < bn.numFeatures; c++) {
    scale[c] = gamma![c]! / Math.sqrt(variance![c]! + bn.eps);
    shift[c] = beta![c]! - mean![c]! * scale[c]!;
  }
  return { scale, shift };
}

function expectChannels(x: OnnxValue, channels: number, what: string): void {
  if (x.shape.length !== 3 || x.shape[0] !== channels) {
    throw new OnnxExportError(`${what} expects ${channels} input channels, got a value of shape [N,${x.shape.join(',')}]`);
  }
}

/** Applies an activation to `x` (nothing for `linear`). */
export function emitActivation(g: OnnxGraphBuilder, x: OnnxValue, activation: OnnxActivation, name: string): OnnxValue {
  if (activation === 'linear') return x;
  if (activation === 'relu') return g.node('Relu', `${name}.relu`, [x.name], x.shape);
  const lo = g.constant(`${name}.clip_min`, [0], []);
  const hi = g.constant(`${name}.clip_max`, [6], []);
  return g.node('Clip', `${name}.relu6`, [x.name, lo, hi], x.shape);
}

/**
 * `activation(bn(conv(x)))` as one ONNX `Conv` (BatchNorm folded into its weights and bias; `bn` may be null),
 * plus the activation. Handles {@link Conv2d} and {@link DepthwiseConv2d} (a grouped `Conv`, one group per channel).
 */
export async function emitConv(
  g: OnnxGraphBuilder,
  x: OnnxValue,
  conv: Conv2d | DepthwiseConv2d,
  bn: BatchNorm | null,
  activation: OnnxActivation,
  name: string,
): Promise<OnnxValue> {
  const depthwise = 'depthMultiplier' in conv;
  const inChannels = depthwise ? conv.channels : conv.inChannels;
  const outChannels = depthwise ? conv.channels * conv.depthMultiplier : conv.outChannels;
  expectChannels(x, inChannels, name);
  if (bn && bn.numFeatures !== outChannels) {
    throw new OnnxExportError(`${name}: BatchNorm(${bn.numFeatures}) after a convolution with ${outChannels} output channels`);
  }
  const torchWeight = nativeToTorch(conv.weight, depthwise ? 'depthwise' : 'conv2d');
  const weight = await float32Values(torchWeight);
  torchWeight.dispose();
  const bias = conv.bias ? await float32Values(conv.bias) : new Float32Array(outChannels);
  if (bn) {
    const { scale, shift } = await batchNormAffine(bn);
    const per = weight.length / outChannels;
    for (let o = 0; o < outChannels; o++) {
      for (let i = o * per; i < (o + 1) * per; i++) weight[i] = weight[i]! * scale[o]!;
      bias[o] = bias[o]! * scale[o]! + shift[o]!;
    }
  }
  const [kh, kw] = conv.kernelSize;
  const [, h, w] = x.shape as [number, number, number];
  const pads = onnxPads(conv.padding, [h, w], conv.kernelSize, conv.stride, conv.dilation);
  const wName = g.constant(`${name}.weight`, weight, [outChannels, depthwise ? 1 : inChannels, kh, kw]);
  const bName = g.constant(`${name}.bias`, bias, [outChannels]);
  const shape = [
    outChannels,
    outSize(h, pads[0], pads[2], kh, conv.stride[0], conv.dilation[0]),
    outSize(w, pads[1], pads[3], kw, conv.stride[1], conv.dilation[1]),
  ];
  const y = g.node('Conv', name, [x.name, wName, bName], shape, {
    kernel_shape: attr.ints([kh, kw]),
    strides: attr.ints(conv.stride),
    dilations: attr.ints(conv.dilation),
    pads: attr.ints(pads),
    group: attr.int(depthwise ? inChannels : 1),
  });
  return emitActivation(g, y, activation, name);
}

/** A BatchNorm on its own (eval mode): `x * scale + shift` per channel, for `[C, H, W]` or `[F]` values. */
export async function emitBatchNorm(g: OnnxGraphBuilder, x: OnnxValue, bn: BatchNorm, name: string): Promise<OnnxValue> {
  if (x.shape[0] !== bn.numFeatures) {
    throw new OnnxExportError(`${name}: BatchNorm(${bn.numFeatures}) got a value of shape [N,${x.shape.join(',')}]`);
  }
  const { scale, shift } = await batchNormAffine(bn);
  const dims = [bn.numFeatures, ...x.shape.slice(1).map(() => 1)];
  const s = g.constant(`${name}.scale`, Float32Array.from(scale), dims);
  const t = g.constant(`${name}.shift`, Float32Array.from(shift), dims);
  const scaled = g.node('Mul', `${name}.mul`, [x.name, s], x.shape);
  return g.node('Add', name, [scaled.name, t], x.shape);
}

/** A fully connected layer as `Gemm` (`x W^T + b`, W in PyTorch's `[out, in]` layout). */
export async function emitLinear(g: OnnxGraphBuilder, x: OnnxValue, lin: Linear, name: string): Promise<OnnxValue> {
  if (x.shape.length !== 1 || x.shape[0] !== lin.inFeatures) {
    throw new OnnxExportError(
      `${name}: Linear(${lin.inFeatures}, ${lin.outFeatures}) got a value of shape [N,${x.shape.join(',')}]`,
    );
  }
  const torchWeight = nativeToTorch(lin.weight, 'linear');
  const weight = await float32Values(torchWeight);
  torchWeight.dispose();
  const inputs = [x.name, g.constant(`${name}.weight`, weight, [lin.outFeatures, lin.inFeatures])];
  if (lin.bias) inputs.push(g.constant(`${name}.bias`, await float32Values(lin.bias), [lin.outFeatures]));
  return g.node('Gemm', name, inputs, [lin.outFeatures], { transB: attr.int(1) });
}

/** PyTorch-style max pooling (symmetric padding with -inf, floor-rounded output size). */
export function emitMaxPool(g: OnnxGraphBuilder, x: OnnxValue, pool: MaxPool2d, name: string): OnnxValue {
  const [c, h, w] = x.shape as [number, number, number];
  const { kernelSize: k, stride: s, padding: p } = pool;
  return g.node('MaxPool', name, [x.name], [c, outSize(h, p, p, k, s, 1), outSize(w, p, p, k, s, 1)], {
    kernel_shape: attr.ints([k, k]),
    strides: attr.ints([s, s]),
    pads: attr.ints([p, p, p, p]),
  });
}

/** Global average or max pooling: `[C, H, W] -> [C, 1, 1]`. */
export function emitGlobalPool(g: OnnxGraphBuilder, x: OnnxValue, kind: 'avg' | 'max', name: string): OnnxValue {
  return g.node(kind === 'avg' ? 'GlobalAveragePool' : 'GlobalMaxPool', name, [x.name], [x.shape[0]!, 1, 1]);
}

/**
 * fastts' Flatten: `[C, H, W] -> [C*H*W]` in fastts' NHWC order (a `Transpose` to channels-last first when the
 * value has more than one pixel, so that a following Linear sees the features in the order it was trained on).
 */
export function emitFlatten(g: OnnxGraphBuilder, x: OnnxValue, name: string): OnnxValue {
  const size = x.shape.reduce((a, b) => a * b, 1);
  let v = x;
  if (x.shape.length === 3 && x.shape[1]! * x.shape[2]! > 1) {
    v = g.node('Transpose', `${name}.nhwc`, [x.name], [x.shape[1]!, x.shape[2]!, x.shape[0]!], { perm: attr.ints([0, 2, 3, 1]) });
  }
  return g.node('Flatten', name, [v.name], [size], { axis: attr.int(1) });
}

/** Element-wise `a + b` (a residual connection), same shapes. */
export function emitAdd(g: OnnxGraphBuilder, a: OnnxValue, b: OnnxValue, name: string): OnnxValue {
  if (a.shape.join(',') !== b.shape.join(',')) {
    throw new OnnxExportError(`${name}: cannot add values of shapes [N,${a.shape.join(',')}] and [N,${b.shape.join(',')}]`);
  }
  return g.node('Add', name, [a.name, b.name], a.shape);
}

/**
 * ONNX emitters for the zoo's networks. Their `forward` is code, not a list of layers, so each architecture's
 * dataflow (residual additions, fused activations) is written out here once, reading the layers through the
 * models' public fields or, for the Keras models whose blocks are not fields, through their child names (the
 * state-dict names `res2a_branch2a`, `conv_dw_1`, ... that the pretrained weights load by).
 */
import { BatchNorm } from '../nn/batchnorm.js';
import { Conv2d, DepthwiseConv2d } from '../nn/conv.js';
import { type Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import { MaxPool2d } from '../nn/pooling.js';
import type { Sequential } from '../nn/sequential.js';
import type { ArchModel } from '../models/arch-model.js';
import { MobileNetV1 } from '../models/mobilenet.js';
import { KerasResNet50 } from '../models/resnet-keras.js';
import { BasicBlock, Bottleneck, ResNet } from '../models/resnet.js';
import { OnnxExportError } from './errors.js';
import type { OnnxGraphBuilder, OnnxValue } from './graph-builder.js';
import { emitActivation, emitAdd, emitConv, emitFlatten, emitGlobalPool, emitLinear, emitMaxPool } from './layers.js';

const join = (prefix: string, name: string): string => (prefix ? `${prefix}.${name}` : name);

/** A named child of `m` of class `cls`, or an error naming what is missing. */
function child<T extends Module>(m: Module, name: string, cls: abstract new (...args: never[]) => T, path: string): T {
  const found = m.namedChildren().find(([n]) => n === name)?.[1];
  if (!(found instanceof cls)) {
    throw new OnnxExportError(
      `${m.constructor.name} at '${path || '(root)'}' has no ${cls.name} '${name}': it is not laid out as the exporter expects`,
    );
  }
  return found;
}

/** `relu(main + shortcut)`, the end of every residual block. */
function residual(g: OnnxGraphBuilder, main: OnnxValue, shortcut: OnnxValue, name: string): OnnxValue {
  return emitActivation(g, emitAdd(g, main, shortcut, `${name}.add`), 'relu', name);
}

/** torchvision's BasicBlock / Bottleneck. */
async function torchvisionBlock(g: OnnxGraphBuilder, x: OnnxValue, block: Module, path: string): Promise<OnnxValue> {
  let shortcut = x;
  const ds = (block as BasicBlock | Bottleneck).downsample;
  if (ds) shortcut = await emitConv(g, x, ds.at(0) as Conv2d, ds.at(1) as BatchNorm, 'linear', join(path, 'downsample'));
  if (block instanceof BasicBlock) {
    const h = await emitConv(g, x, block.conv1, block.bn1, 'relu', join(path, 'conv1'));
    return residual(g, await emitConv(g, h, block.conv2, block.bn2, 'linear', join(path, 'conv2')), shortcut, path);
  }
  if (block instanceof Bottleneck) {
    let h = await emitConv(g, x, block.conv1, block.bn1, 'relu', join(path, 'conv1'));
    h = await emitConv(g, h, block.conv2, block.bn2, 'relu', join(path, 'conv2'));
    return residual(g, await emitConv(g, h, block.conv3, block.bn3, 'linear', join(path, 'conv3')), shortcut, path);
  }
  throw new OnnxExportError(`'${path}' is a ${block.constructor.name}, not a torchvision BasicBlock or Bottleneck`);
}

/** The pooled classifier of a full (`includeTop`) model: global average pooling, then `fc`. */
async function averagePooledLinear(
  g: OnnxGraphBuilder,
  x: OnnxValue,
  fc: Linear,
  path: string,
  name: string,
): Promise<OnnxValue> {
  const pooled = emitFlatten(g, emitGlobalPool(g, x, 'avg', join(path, 'avgpool')), join(path, 'flatten'));
  return emitLinear(g, pooled, fc, join(path, name));
}

async function resnet(g: OnnxGraphBuilder, x: OnnxValue, m: ResNet, path: string): Promise<OnnxValue> {
  let h = await emitConv(g, x, m.conv1, m.bn1, 'relu', join(path, 'conv1'));
  h = emitMaxPool(g, h, m.maxpool, join(path, 'maxpool'));
  for (const [name, layer] of [
    ['layer1', m.layer1],
    ['layer2', m.layer2],
    ['layer3', m.layer3],
    ['layer4', m.layer4],
  ] as Array<[string, Sequential]>) {
    for (const [i, block] of layer.namedChildren()) h = await torchvisionBlock(g, h, block, join(path, `${name}.${i}`));
  }
  return m.fc ? averagePooledLinear(g, h, m.fc, path, 'fc') : h;
}

async function kerasResnet50(g: OnnxGraphBuilder, x: OnnxValue, m: KerasResNet50, path: string): Promise<OnnxValue> {
  const conv = (name: string): Conv2d => child(m, name, Conv2d, path);
  const norm = (name: string): BatchNorm => child(m, name, BatchNorm, path);
  let h = await emitConv(g, x, conv('conv1'), norm('bn_conv1'), 'relu', join(path, 'conv1'));
  h = emitMaxPool(g, h, child(m, 'max_pooling2d', MaxPool2d, path), join(path, 'max_pooling2d'));
  const blocks = m.namedChildren().flatMap(([n]) => /^res(\d[a-z])_branch2a$/.exec(n)?.[1] ?? []);
  if (blocks.length === 0)
    throw new OnnxExportError(`KerasResNet50 at '${path || '(root)'}' has no residual blocks (res2a_branch2a, ...)`);
  const names = new Set(m.namedChildren().map(([n]) => n));
  for (const id of blocks) {
    const branch = async (b: string, input: OnnxValue, act: 'relu' | 'linear'): Promise<OnnxValue> =>
      emitConv(g, input, conv(`res${id}_branch${b}`), norm(`bn${id}_branch${b}`), act, join(path, `res${id}_branch${b}`));
    const shortcut = names.has(`res${id}_branch1`) ? await branch('1', h, 'linear') : h;
    let y = await branch('2a', h, 'relu');
    y = await branch('2b', y, 'relu');
    h = residual(g, await branch('2c', y, 'linear'), shortcut, join(path, `res${id}`));
  }
  return m.fc1000 ? averagePooledLinear(g, h, m.fc1000, path, 'fc1000') : h;
}

async function mobilenetV1(g: OnnxGraphBuilder, x: OnnxValue, m: MobileNetV1, path: string): Promise<OnnxValue> {
  const norm = (name: string): BatchNorm => child(m, name, BatchNorm, path);
  let h = await emitConv(g, x, child(m, 'conv1', Conv2d, path), norm('conv1_bn'), 'relu6', join(path, 'conv1'));
  const names = new Set(m.namedChildren().map(([n]) => n));
  for (let i = 1; names.has(`conv_dw_${i}`); i++) {
    h = await emitConv(
      g,
      h,
      child(m, `conv_dw_${i}`, DepthwiseConv2d, path),
      norm(`conv_dw_${i}_bn`),
      'relu6',
      join(path, `conv_dw_${i}`),
    );
    h = await emitConv(
      g,
      h,
      child(m, `conv_pw_${i}`, Conv2d, path),
      norm(`conv_pw_${i}_bn`),
      'relu6',
      join(path, `conv_pw_${i}`),
    );
  }
  if (!m.convPreds) return h;
  // Keras' classifier: global average pooling, (dropout), a 1x1 convolution, then reshape to [N, classes].
  const pooled = emitGlobalPool(g, h, 'avg', join(path, 'global_average_pooling2d'));
  return emitFlatten(g, await emitConv(g, pooled, m.convPreds, null, 'linear', join(path, 'conv_preds')), join(path, 'reshape'));
}

/** Emits a zoo network (body or full classifier); `undefined` when `m` is not one the exporter knows. */
export async function emitArchModel(
  g: OnnxGraphBuilder,
  x: OnnxValue,
  m: ArchModel,
  path: string,
): Promise<OnnxValue | undefined> {
  if (m instanceof ResNet) return resnet(g, x, m, path);
  if (m instanceof KerasResNet50) return kerasResnet50(g, x, m, path);
  if (m instanceof MobileNetV1) return mobilenetV1(g, x, m, path);
  return undefined;
}

/** Architectures {@link emitArchModel} knows, for error messages. */
export const ONNX_ARCHITECTURES = ['ResNet (torchvision resnet18-152)', 'KerasResNet50 (resnet50-keras)', 'MobileNetV1'];

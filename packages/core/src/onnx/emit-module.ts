/**
 * Walks a module tree and emits its eval-mode computation as ONNX nodes: `Sequential`s in order, the zoo's
 * networks through their architecture emitters, and the layers of fast.ai's head (AdaptiveConcatPool2d, Flatten,
 * BatchNorm1d, Dropout, Linear, ReLU). A convolution directly followed by a BatchNorm in a `Sequential` is folded.
 */
import { Flatten, Identity, ReLU, ReLU6 } from '../nn/activation.js';
import { BatchNorm } from '../nn/batchnorm.js';
import { Conv2d, DepthwiseConv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import { AdaptiveAvgPool2d, AdaptiveConcatPool2d, AdaptiveMaxPool2d, MaxPool2d } from '../nn/pooling.js';
import { Sequential } from '../nn/sequential.js';
import { ArchModel } from '../models/arch-model.js';
import { emitArchModel, ONNX_ARCHITECTURES } from './architectures.js';
import { OnnxExportError } from './errors.js';
import type { OnnxGraphBuilder, OnnxValue } from './graph-builder.js';
import { emitActivation, emitBatchNorm, emitConv, emitFlatten, emitGlobalPool, emitLinear, emitMaxPool } from './layers.js';

const SUPPORTED =
  `${ONNX_ARCHITECTURES.join(', ')}, Sequential, Conv2d, DepthwiseConv2d, BatchNorm1d/2d, ReLU, ReLU6, Identity, Dropout, ` +
  'Flatten, MaxPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, AdaptiveConcatPool2d, Linear';

function unsupported(m: Module, path: string): OnnxExportError {
  return new OnnxExportError(
    `cannot export module '${path || '(root)'}' (${m.constructor.name}) to ONNX: the exporter knows ${SUPPORTED}`,
  );
}

async function emitSequential(g: OnnxGraphBuilder, x: OnnxValue, m: Sequential, path: string): Promise<OnnxValue> {
  const children = m.namedChildren();
  let h = x;
  for (let i = 0; i < children.length; i++) {
    const [name, layer] = children[i]!;
    const childPath = path ? `${path}.${name}` : name;
    const next = children[i + 1]?.[1];
    if ((layer instanceof Conv2d || layer instanceof DepthwiseConv2d) && next instanceof BatchNorm) {
      h = await emitConv(g, h, layer, next, 'linear', childPath);
      i++;
    } else {
      h = await emitModule(g, h, layer, childPath);
    }
  }
  return h;
}

/** Emits module `m` (at dotted `path`) applied to `x`; returns its output value. */
export async function emitModule(g: OnnxGraphBuilder, x: OnnxValue, m: Module, path: string): Promise<OnnxValue> {
  if (m instanceof ArchModel) {
    const y = await emitArchModel(g, x, m, path);
    if (!y) throw unsupported(m, path);
    return y;
  }
  if (m instanceof Sequential) return emitSequential(g, x, m, path);
  if (m instanceof Conv2d || m instanceof DepthwiseConv2d) return emitConv(g, x, m, null, 'linear', path);
  if (m instanceof BatchNorm) return emitBatchNorm(g, x, m, path);
  if (m instanceof ReLU) return emitActivation(g, x, 'relu', path);
  if (m instanceof ReLU6) return emitActivation(g, x, 'relu6', path);
  if (m instanceof Identity || m instanceof Dropout) return x; // eval mode: Dropout is the identity
  if (m instanceof Flatten) return emitFlatten(g, x, path);
  if (m instanceof MaxPool2d) return emitMaxPool(g, x, m, path);
  if (m instanceof AdaptiveAvgPool2d) return emitGlobalPool(g, x, 'avg', path);
  if (m instanceof AdaptiveMaxPool2d) return emitGlobalPool(g, x, 'max', path);
  if (m instanceof AdaptiveConcatPool2d) {
    // fast.ai's order: max first, then average.
    const mp = emitGlobalPool(g, x, 'max', `${path}.mp`);
    const ap = emitGlobalPool(g, x, 'avg', `${path}.ap`);
    return g.node('Concat', path, [mp.name, ap.name], [2 * x.shape[0]!, 1, 1], { axis: { int: 1 } });
  }
  if (m instanceof Linear) return emitLinear(g, x, m, path);
  throw unsupported(m, path);
}

/**
 * `nn`: a small torch-like module system on tfjs-core (named parameters and buffers, train/eval, trainable
 * flags, PyTorch-compatible state dicts) and the layers the model zoo is built from. NHWC throughout.
 */
import '../gradients.js';
export { Module } from './module.js';
export type {
  Parameter,
  StateDict,
  StateDictLike,
  LoadStateDictOptions,
  LoadStateDictResult,
  StateDictOptions,
} from './module.js';
export { StateDictError, ModuleConfigError } from './errors.js';
export type { ShapeMismatch } from './errors.js';
export { torchShapeOf, torchToNative, nativeToTorch } from './layout.js';
export type { TorchLayout, StateDictLayout } from './layout.js';
export { torchDefaultInit, kaimingNormalFanOut, kaimingNormalFanIn, torchDefaultBias, fans } from './init.js';
export type { Initializer } from './init.js';
export { Conv2d, DepthwiseConv2d, toTfPad } from './conv.js';
export type { FusedActivation } from './fold.js';
export type { Conv2dOptions, DepthwiseConv2dOptions, Padding2d, TfPad } from './conv.js';
export { BatchNorm, BatchNorm1d, BatchNorm2d, batchNormBuffers } from './batchnorm.js';
export type { BatchNormBuffers, BatchNormOptions } from './batchnorm.js';
export { ReLU, ReLU6, Identity, Flatten } from './activation.js';
export { MaxPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, AdaptiveConcatPool2d } from './pooling.js';
export { Linear } from './linear.js';
export type { LinearOptions } from './linear.js';
export { Dropout } from './dropout.js';
export { TensorRandom, setSeed, withSeed, tensorRandom, nextTensorSeed, seedDropout } from './random.js';
export type { Reseedable } from './random.js';
export { Sequential } from './sequential.js';

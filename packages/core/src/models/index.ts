/**
 * `models`: the model zoo — torchvision-compatible ResNets, Keras ResNet50 and MobileNet v1 — with each
 * architecture's preprocessing, body cut, fast.ai layer groups and pretrained-weight sources, plus fast.ai's head.
 */
import '../gradients.js';
export { ArchModel } from './arch-model.js';
export type { ArchModelOptions } from './arch-model.js';
export { ResNet, BasicBlock, Bottleneck, RESNET_CONFIGS } from './resnet.js';
export type { ResNetConfig } from './resnet.js';
export { KerasResNet50, KERAS_RESNET50_BN_EPS } from './resnet-keras.js';
export { MobileNetV1, MOBILENET_ALPHAS, MOBILENET_BN_EPS } from './mobilenet.js';
export type { MobileNetV1Options } from './mobilenet.js';
export {
  IMAGENET_MEAN,
  IMAGENET_STD,
  IMAGENET_PREPROCESSING,
  CAFFE_PREPROCESSING,
  TF_PREPROCESSING,
  applyPreprocessing,
} from './preprocessing.js';
export type { Preprocessing } from './preprocessing.js';
export { createHead } from './head.js';
export type { HeadOptions } from './head.js';
export {
  registerArch,
  listArchs,
  getArch,
  createModel,
  createBody,
  preprocess,
  archPreprocessing,
  UnknownArchError,
  models,
} from './registry.js';
export type { ArchSpec, CreateModelOptions, CreateBodyOptions } from './registry.js';
export { applyPretrained } from './pretrained.js';
export { TORCHVISION_SOURCES, RESNET50_KERAS_SOURCE, mobilenetSource, mobilenetAlphaName } from './sources.js';

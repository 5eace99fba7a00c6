/** The architecture registry: names -> builders, preprocessing, pretrained sources. */
import type * as tf from '@tensorflow/tfjs-core';
import type { PretrainedSource, PretrainedWeights } from '../weights/pretrained.js';
import type { ArchModel, ArchModelOptions } from './arch-model.js';
import { MobileNetV1, MOBILENET_ALPHAS } from './mobilenet.js';
import { applyPretrained } from './pretrained.js';
import {
  applyPreprocessing,
  CAFFE_PREPROCESSING,
  IMAGENET_PREPROCESSING,
  TF_PREPROCESSING,
  type Preprocessing,
} from './preprocessing.js';
import { KerasResNet50 } from './resnet-keras.js';
import { RESNET_CONFIGS, ResNet } from './resnet.js';
import { mobilenetAlphaName, mobilenetSource, RESNET50_KERAS_SOURCE, TORCHVISION_SOURCES } from './sources.js';

/** Everything the zoo knows about an architecture. */
export interface ArchSpec {
  /** Registry name, e.g. `resnet34`. */
  readonly name: string;
  readonly description: string;
  /** Where its weights come from and how they are named. */
  readonly family: 'torchvision-resnet' | 'keras-resnet' | 'keras-mobilenet';
  /** Input normalization its pretrained weights expect. */
  readonly preprocessing: Preprocessing;
  /** Image size the pretrained weights were trained at. */
  readonly inputSize: number;
  /** Channels of the body's output. */
  readonly nf: number;
  /** Canonical pretrained ImageNet weights. */
  readonly pretrained: PretrainedSource;
  /** Builds a fresh (randomly initialized) model. */
  build(options: ArchModelOptions): ArchModel;
}

/** Thrown for an architecture name that is not registered; lists the closest names. */
export class UnknownArchError extends Error {
  override readonly name = 'UnknownArchError';
  constructor(
    readonly arch: string,
    readonly suggestions: string[],
  ) {
    super(
      `unknown architecture '${arch}'. ` +
        (suggestions.length > 0 ? `Did you mean ${suggestions.map((s) => `'${s}'`).join(' or ')}? ` : '') +
        `Known: ${listArchs().join(', ')}`,
    );
  }
}

const REGISTRY = new Map<string, ArchSpec>();
const ALIASES = new Map<string, string>();

/** Adds an architecture to the registry (replacing one of the same name). */
export function registerArch(spec: ArchSpec, aliases: string[] = []): void {
  REGISTRY.set(spec.name, spec);
  for (const a of aliases) ALIASES.set(a, spec.name);
}

/** Registered architecture names, sorted. */
export function listArchs(): string[] {
  return [...REGISTRY.keys()].sort();
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

/** The spec of an architecture (names are case-insensitive; `_`/`-` interchangeable). */
export function getArch(name: string): ArchSpec {
  const direct = REGISTRY.get(name) ?? REGISTRY.get(ALIASES.get(name) ?? '');
  if (direct) return direct;
  const norm = (s: string): string => s.toLowerCase().replace(/-/g, '_');
  const n = norm(name);
  for (const [k, spec] of REGISTRY) if (norm(k) === n) return spec;
  for (const [k, target] of ALIASES) if (norm(k) === n) return REGISTRY.get(target)!;
  const scored = listArchs()
    .map((k) => ({ k, d: editDistance(n, norm(k)) }))
    .filter(({ k, d }) => d <= Math.max(2, Math.floor(k.length / 3)) || norm(k).includes(n) || n.includes(norm(k)))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map(({ k }) => k);
  throw new UnknownArchError(name, scored);
}

/** Options of {@link createModel}. */
export interface CreateModelOptions {
  /** Classes of the classifier (default 1000, the ImageNet head). */
  numClasses?: number;
  /**
   * Pretrained weights to load (from `loadPretrained(arch)` on Node). The classifier is loaded too when its
   * shape fits (`numClasses` 1000); otherwise it stays freshly initialized.
   */
  weights?: PretrainedWeights;
}

/**
 * Builds an architecture's full classifier: `forward(x)` maps a preprocessed NHWC batch to logits
 * `[N, numClasses]`. In training mode, like a fresh PyTorch module; call `eval()` for inference.
 */
export function createModel(arch: string, options: CreateModelOptions = {}): ArchModel {
  const spec = getArch(arch);
  const model = spec.build({ includeTop: true, ...(options.numClasses !== undefined ? { numClasses: options.numClasses } : {}) });
  return withWeights(model, options.weights);
}

/** Loads `weights` (when given) into a freshly built model, disposing the model if they do not fit. */
function withWeights(model: ArchModel, weights: PretrainedWeights | undefined): ArchModel {
  if (!weights) return model;
  try {
    applyPretrained(model, weights);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** Options of {@link createBody}. */
export interface CreateBodyOptions {
  /** Pretrained weights to load into the body (the classifier's weights are ignored). */
  weights?: PretrainedWeights;
}

/**
 * Builds an architecture's body, cut before pooling and classifier as fast.ai's `create_body`: `forward(x)`
 * returns features `[N, h, w, nf]`; `nf` and `layerGroups()` (two groups) are on the returned model.
 */
export function createBody(arch: string, options: CreateBodyOptions = {}): ArchModel {
  return withWeights(getArch(arch).build({ includeTop: false }), options.weights);
}

/** The input normalization of an architecture. */
export function archPreprocessing(arch: string): Preprocessing {
  return getArch(arch).preprocessing;
}

/**
 * Applies an architecture's (or a given) preprocessing to an NHWC float32 batch of RGB pixel values 0..255;
 * returns a new tensor. Use as `data.normalize((x) => preprocess('resnet34', x))`.
 */
export function preprocess(arch: string | Preprocessing, pixels: tf.Tensor4D): tf.Tensor4D {
  return applyPreprocessing(typeof arch === 'string' ? getArch(arch).preprocessing : arch, pixels);
}

for (const [name, config] of Object.entries(RESNET_CONFIGS)) {
  const depth = name.replace('resnet', '');
  registerArch({
    name,
    description: `ResNet-${depth} (torchvision layout, ImageNet weights IMAGENET1K_V1)`,
    family: 'torchvision-resnet',
    preprocessing: IMAGENET_PREPROCESSING,
    inputSize: 224,
    nf: config.block === 'basic' ? 512 : 2048,
    pretrained: TORCHVISION_SOURCES[name]!,
    build: (options) => new ResNet(name, config, options),
  });
}

registerArch(
  {
    name: 'resnet50-keras',
    description: 'Keras ResNet50 v1 (caffe preprocessing)',
    family: 'keras-resnet',
    preprocessing: CAFFE_PREPROCESSING,
    inputSize: 224,
    nf: 2048,
    pretrained: RESNET50_KERAS_SOURCE,
    build: (options) => new KerasResNet50('resnet50-keras', options),
  },
  ['resnet50_keras'],
);

for (const alpha of MOBILENET_ALPHAS) {
  const name = `mobilenet_v1_${mobilenetAlphaName(alpha)}_224`;
  registerArch(
    {
      name,
      description: `Keras MobileNet v1, width ${alpha}, 224 px ("tf" preprocessing)`,
      family: 'keras-mobilenet',
      preprocessing: TF_PREPROCESSING,
      inputSize: 224,
      nf: Math.trunc(1024 * alpha),
      pretrained: mobilenetSource(alpha),
      build: (options) => new MobileNetV1(name, { ...options, alpha }),
    },
    [`mobilenet_v1_${alpha}_224`],
  );
}

/**
 * fast.ai's `models.resnet34` and friends: the names of the registered ImageNet architectures, for
 * `cnnLearner(data, models.resnet34)` (a plain string works the same: `cnnLearner(data, 'resnet34')`).
 */
export const models = {
  resnet18: 'resnet18',
  resnet34: 'resnet34',
  resnet50: 'resnet50',
  resnet101: 'resnet101',
  resnet152: 'resnet152',
  resnet50_keras: 'resnet50-keras',
  mobilenet_v1_0_25: 'mobilenet_v1_0.25_224',
  mobilenet_v1_0_50: 'mobilenet_v1_0.50_224',
  mobilenet_v1_0_75: 'mobilenet_v1_0.75_224',
  mobilenet_v1_1_0: 'mobilenet_v1_1.0_224',
} as const;

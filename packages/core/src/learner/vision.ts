/**
 * Vision learners: `cnnLearner` / `visionLearner` (pretrained body + fast.ai head, frozen body), `predict(image)`,
 * and `loadLearner` for inference from an export.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DecodedImage, DecodeTarget } from '../data/image.js';
import { createBody, createHead, getArch, type HeadOptions, type Preprocessing } from '../models/index.js';
import { applyPreprocessing } from '../models/preprocessing.js';
import { randomSeed } from '../data/rng.js';
import { Sequential, withSeed, type Module } from '../nn/index.js';
import type { BatchNormalizer } from '../transforms/normalize.js';
import { transformImages } from '../transforms/transform-images.js';
import type { PretrainedWeights } from '../weights/pretrained.js';
import { decodeCheckpoint } from './checkpoint.js';
import type { LearnerData, LearnerDataLoader } from './data.js';
import { CheckpointError, LearnerConfigError } from './errors.js';
import { EXPORT_FORMAT } from './export.js';
import { Learner } from './learner.js';
import type { LearnerOptions } from './options.js';
import { predictTensor, type Prediction } from './predict.js';
import type { LearnerStorage } from './storage.js';
import { currentPlatform, platformReady } from './platform.js';
import type { TrainStep } from './train-step.js';

/** A loader that can also give one item's image as the model sees it (the data area's `DataLoader`). */
export interface ImageLearnerDataLoader extends LearnerDataLoader {
  /** Item `i` resized and center-cropped, RGB bytes (for top-losses grids). */
  itemImage?(i: number): Promise<DecodedImage>;
  /** How items are decoded (so that `predict` can be given images decoded the same way). */
  readonly dataset?: { readonly decodeTarget?: DecodeTarget };
}

/** What a vision learner needs from its data (the data area's `DataBunch` fits). */
export interface VisionData extends LearnerData {
  /** Image side in pixels. */
  readonly size: number;
  readonly trainDl: ImageLearnerDataLoader;
  readonly validDl?: ImageLearnerDataLoader | undefined;
  readonly testDl?: ImageLearnerDataLoader | undefined;
  /** The data's seed (split, shuffles, augmentation): `cnnLearner` seeds the model from it too. */
  readonly seed?: number;
  /** The installed batch normalizer (model preprocessing), or null. */
  readonly normalizer: BatchNormalizer | null;
  /** Installs the model's preprocessing on every loader. */
  normalize(fn: BatchNormalizer | null): unknown;
}

export { registerPretrainedLoader, type PretrainedLoader } from './platform.js';

/** What a platform's training-step factory gets to build a step for a new vision learner. */
export interface VisionTrainStepRequest {
  /** The learner (its model, loss, data and `exportInfo`: arch, size, head). */
  learn: VisionLearner;
  /** Whether the loss is the default flattened cross-entropy (replicas elsewhere can rebuild it). */
  defaultLoss: boolean;
}

/** Builds the training step a platform prefers for a vision learner (e.g. data-parallel workers), or `undefined`. */
export type VisionTrainStepFactory = (req: VisionTrainStepRequest) => Promise<TrainStep | undefined>;

let platformStepFactory: VisionTrainStepFactory | undefined;

/**
 * Lets a platform choose `cnnLearner`'s training step when the caller gives none (Node: data-parallel training on
 * worker threads). `undefined` removes it; the default is the single-backend step.
 */
export function registerTrainStepFactory(factory: VisionTrainStepFactory | undefined): void {
  platformStepFactory = factory;
}

/** Options of {@link cnnLearner} (fast.ai `cnn_learner` arguments in camelCase, plus Learner options). */
export interface CnnLearnerOptions extends Omit<LearnerOptions, 'layerGroups' | 'exportInfo'>, HeadOptions {
  /**
   * Pretrained ImageNet weights for the body. Loading copies them: dispose them afterwards. Default: the
   * platform's loader (on Node: the weight cache, downloading on first use).
   */
  weights?: PretrainedWeights;
  /** Use pretrained weights (default true); false starts from random weights and does not freeze. */
  pretrained?: boolean;
  /** Install the architecture's input preprocessing on the data (default true). */
  normalize?: boolean;
  /**
   * Seed of the head's initialization and of the dropout masks (in this process and in data-parallel workers).
   * Default: the data's seed (`fromFolder`'s `seed`), so that one seed drives the split, the shuffles, the
   * augmentations, the initialization and dropout; random when the data has none.
   */
  seed?: number;
}

/** Mixed into the seed for the model's stream (the data's streams mix their own constants). */
const MODEL_STREAM = 0x30d;

/** What `export` records for a vision learner and `loadLearner` reads back. */
export interface VisionExportInfo {
  arch: string;
  size: number;
  nf: number;
  head: HeadOptions;
  preprocessing: Preprocessing;
  decodeTarget?: DecodeTarget;
}

/**
 * The model `cnnLearner` builds, without pretrained weights: `Sequential(body, head)` (state-dict names `0.*` for
 * the body, `1.*` for the head). For worker threads that need a replica of a vision learner's model
 * (e.g. `{ module: '@fastts/core/platform', export: 'createCnnModel', args: [arch, c, head] }`).
 */
export function createCnnModel(arch: string, numClasses: number, head: HeadOptions = {}): Sequential {
  return buildModel(getArch(arch).name, numClasses, head).model;
}

/** Builds fast.ai's model for `arch`: `Sequential(body, head)` with three layer groups. */
function buildModel(
  arch: string,
  c: number,
  head: HeadOptions,
  weights?: PretrainedWeights,
): { model: Sequential; layerGroups: Module[][]; nf: number } {
  const body = createBody(arch, weights ? { weights } : {});
  const h = createHead(body.nf, c, head);
  const model = new Sequential(body, h);
  return { model, layerGroups: [...body.layerGroups(), [h]], nf: body.nf };
}

function headOptions(o: HeadOptions): HeadOptions {
  const out: HeadOptions = {};
  if (o.linFtrs !== undefined) out.linFtrs = o.linFtrs;
  if (o.ps !== undefined) out.ps = o.ps;
  if (o.concatPool !== undefined) out.concatPool = o.concatPool;
  if (o.bnFinal !== undefined) out.bnFinal = o.bnFinal;
  return out;
}

/** Turns a decoded image into a model input `[1, size, size, 3]`: resize, center crop, preprocessing. */
function prepareImage(image: DecodedImage, size: number, normalize: (x: tf.Tensor4D) => tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => normalize(transformImages([image], { size })));
}

/** A Learner for images: knows its architecture, input size and preprocessing, and predicts decoded images. */
export class VisionLearner extends Learner {
  declare readonly data: VisionData;
  constructor(
    data: VisionData,
    model: Module,
    readonly arch: string,
    opts: LearnerOptions,
    /** The seed the model's initialization and dropout came from (what data-parallel workers seed dropout with). */
    readonly seed?: number,
  ) {
    super(data, model, opts);
  }

  /** Image side in pixels. */
  get size(): number {
    return this.data.size;
  }

  /**
   * Predicts the class of one decoded image (any size: it is resized and center-cropped as validation images are,
   * then preprocessed). For results identical to `getPreds`, decode it as the data set does (`decodeTarget`).
   */
  async predict(image: DecodedImage): Promise<Prediction> {
    const norm = this.data.normalizer ?? ((x: tf.Tensor4D) => x);
    const x = prepareImage(image, this.size, norm);
    try {
      return await this.predictTensor(x);
    } finally {
      x.dispose();
    }
  }

  /** How the data set decodes images (for decoding images to `predict` the same way). */
  get decodeTarget(): DecodeTarget | undefined {
    return this.data.validDl?.dataset?.decodeTarget ?? this.data.trainDl.dataset?.decodeTarget;
  }
}

/**
 * fast.ai's `cnn_learner(data, arch, metrics=...)`: the architecture's pretrained body cut before pooling, plus
 * fast.ai's head (AdaptiveConcatPool2d, Flatten, BatchNorm1d, Dropout(ps/2), Linear(2nf, 512), ReLU,
 * BatchNorm1d, Dropout(ps), Linear(512, c); kaiming-normal linear weights, zero biases); layer groups
 * `[early body, late body, head]`; the body frozen (BatchNorm trainable); the architecture's preprocessing
 * installed on the data. The initialization and the dropout masks are seeded by `seed` (default: the data's).
 */
export async function cnnLearner(data: VisionData, arch: string, opts: CnnLearnerOptions = {}): Promise<VisionLearner> {
  const spec = getArch(arch);
  await platformReady();
  if (typeof data.normalize !== 'function' || !(data.size > 0)) {
    throw new LearnerConfigError(
      'cnnLearner: data must be a DataBunch (from ImageDataLoaders.fromFolder) with a size and normalize()',
    );
  }
  const pretrained = opts.pretrained ?? true;
  let weights = opts.weights;
  let ownWeights = false;
  if (pretrained && !weights) {
    const loader = currentPlatform().loadPretrained;
    if (!loader) {
      throw new LearnerConfigError(
        `cnnLearner(data, '${spec.name}'): pretrained weights are needed and no platform provides them. Import ` +
          "'@fastts/node-gpu' (Node) or '@fastts/webgpu' (browsers), pass { weights }, or { pretrained: false } to start from random weights.",
      );
    }
    weights = await loader(spec.name);
    ownWeights = true;
  }
  const head = headOptions(opts);
  const seed = opts.seed ?? data.seed ?? randomSeed();
  let built: ReturnType<typeof buildModel>;
  try {
    built = withSeed([seed, MODEL_STREAM], () => buildModel(spec.name, data.c, head, pretrained ? weights : undefined));
  } finally {
    if (ownWeights) weights?.dispose();
  }
  const { model, layerGroups, nf } = built;
  if (opts.normalize ?? true) data.normalize((x) => applyPreprocessing(spec.preprocessing, x));
  const decodeTarget = data.validDl?.dataset?.decodeTarget ?? data.trainDl.dataset?.decodeTarget;
  const exportInfo: VisionExportInfo = {
    arch: spec.name,
    size: data.size,
    nf,
    head,
    preprocessing: spec.preprocessing,
    ...(decodeTarget ? { decodeTarget } : {}),
  };
  const learnerOpts: LearnerOptions = { ...opts, layerGroups, exportInfo: exportInfo as unknown as Record<string, unknown> };
  const learn = new VisionLearner(data, model, spec.name, learnerOpts, seed);
  if (pretrained) learn.freeze();
  if (!opts.trainStep && opts.microBatch === undefined && platformStepFactory) {
    const step = await platformStepFactory({ learn, defaultLoss: opts.lossFunc === undefined });
    if (step) learn.trainStep = step;
  }
  return learn;
}

/** fast.ai v2's name for {@link cnnLearner}. */
export const visionLearner = cnnLearner;

/** fast.ai 1.0's first name for {@link cnnLearner} (`learn = ConvLearner(data, models.resnet34, metrics=accuracy)`). */
export const ConvLearner = cnnLearner;

/** A model loaded from an export, for inference only (fast.ai `load_learner`). */
export class InferenceLearner {
  constructor(
    readonly model: Module,
    readonly classes: readonly string[],
    readonly info: VisionExportInfo,
  ) {
    model.eval();
  }

  /** The architecture. */
  get arch(): string {
    return this.info.arch;
  }

  /** How to decode images for {@link predict} to see them as in training. */
  get decodeTarget(): DecodeTarget | undefined {
    return this.info.decodeTarget;
  }

  /** Predicts one decoded image (resized and center-cropped like validation images, then preprocessed). */
  async predict(image: DecodedImage): Promise<Prediction> {
    const x = prepareImage(image, this.info.size, (t) => applyPreprocessing(this.info.preprocessing, t));
    try {
      return await predictTensor(this.model, this.classes, x);
    } finally {
      x.dispose();
    }
  }

  /** Frees the model's weights. */
  dispose(): void {
    this.model.dispose();
  }
}

/**
 * Reads an export written by `learn.export()` and rebuilds the model for inference (fast.ai `load_learner`):
 * `await loadLearner('runs/x/export.safetensors')` reads through the platform's storage, or give
 * `{ storage }` (the older form `loadLearner(storage, file)` works too).
 */
export async function loadLearner(file: string, opts?: { storage?: LearnerStorage }): Promise<InferenceLearner>;
export async function loadLearner(storage: LearnerStorage, file: string): Promise<InferenceLearner>;
export async function loadLearner(
  a: string | LearnerStorage,
  b?: string | { storage?: LearnerStorage },
): Promise<InferenceLearner> {
  const file = typeof a === 'string' ? a : (b as string);
  const storage =
    typeof a === 'string' ? ((b as { storage?: LearnerStorage } | undefined)?.storage ?? currentPlatform().storage) : a;
  if (!storage)
    throw new LearnerConfigError(
      `loadLearner('${file}'): no storage: give { storage }, or import a platform package (@fastts/node-gpu)`,
    );
  await platformReady();
  if (!(await storage.exists(file))) throw new CheckpointError(`no export at ${file}: write one with learn.export()`);
  const { tensors: sd, meta } = decodeCheckpoint(await storage.readFile(file), file);
  const m = meta as Partial<VisionExportInfo> & { format?: string; classes?: string[] };
  if (m.format !== EXPORT_FORMAT) {
    tf.dispose([...sd.values()]);
    throw new CheckpointError(
      `${file} is not an export (format ${String(m.format)}): training checkpoints load with learn.load()`,
    );
  }
  if (!m.arch || !m.classes || !m.size || !m.preprocessing) {
    tf.dispose([...sd.values()]);
    throw new CheckpointError(
      `${file} lacks the architecture, classes, size or preprocessing: it was not exported by a vision learner`,
    );
  }
  let model: Module;
  try {
    model = buildModel(m.arch, m.classes.length, m.head ?? {}).model;
    try {
      model.loadStateDict(sd, { layout: 'native' });
    } catch (e) {
      model.dispose();
      throw new CheckpointError(
        `${file} does not fit a ${m.arch} model with ${m.classes.length} classes: ${(e as Error).message}`,
      );
    }
  } finally {
    tf.dispose([...sd.values()]);
  }
  return new InferenceLearner(model, m.classes, {
    arch: m.arch,
    size: m.size,
    nf: m.nf ?? 0,
    head: m.head ?? {},
    preprocessing: m.preprocessing,
    ...(m.decodeTarget ? { decodeTarget: m.decodeTarget } : {}),
  });
}

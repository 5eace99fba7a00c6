/**
 * `toOnnx`: a fastts vision model (`Sequential(body, head)` from `cnnLearner`/`createCnnModel`, or a zoo model)
 * as a self-contained ONNX model in eval mode, and `readOnnxInfo` to read back what it records.
 *
 * The graph (opset 17, IR version 8):
 * - input `pixels`: float32 `[N, 3, size, size]` (NCHW, the default) or `[N, size, size, 3]` (`inputLayout:
 *   'NHWC'`), RGB values 0..255 of the image resized so that its short side is `size` and center-cropped to
 *   `size x size` (fast.ai's validation transform);
 * - the architecture's preprocessing (scale, offset, RGB->BGR for Keras "caffe" weights) as the graph's first nodes;
 * - outputs `logits` `[N, classes]` and `probs` (their softmax).
 *
 * BatchNorm layers that follow a convolution are folded into it; the head's BatchNorm1d layers become a per-feature
 * multiply-add; Dropout is removed. `metadata_props` record the architecture, classes, size, input layout,
 * preprocessing (also as mean/std or Keras mode), fastts' decode target and version, so that the file runs in any
 * ONNX runtime without fastts.
 */
import type { DecodeTarget } from '../data/image.js';
import type { HeadOptions } from '../models/head.js';
import { IMAGENET_MEAN, IMAGENET_STD, type Preprocessing } from '../models/preprocessing.js';
import type { Module } from '../nn/module.js';
import { VERSION } from '../version.js';
import { emitModule } from './emit-module.js';
import { OnnxExportError } from './errors.js';
import { attr, OnnxGraphBuilder, type OnnxValue } from './graph-builder.js';
import { decodeOnnxModel, encodeOnnxModel, OnnxDataType, type OnnxDim, type OnnxValueInfo } from './proto.js';

/** Layout of the exported model's input: channels first (ONNX's and PyTorch's convention) or last (fastts'). */
export type OnnxInputLayout = 'NCHW' | 'NHWC';

/** What an ONNX export records besides the weights (a vision learner's `exportInfo` plus its classes). */
export interface OnnxExportInfo {
  /** Class names, in the order of the logits. */
  classes: readonly string[];
  /** Side of the square input in pixels. */
  size: number;
  /** The input normalization of the architecture's pretrained weights; it becomes the graph's first nodes. */
  preprocessing: Preprocessing;
  /** Registered architecture name (`resnet34`, `resnet50-keras`, ...). */
  arch?: string;
  /** How fastts decodes images before the resize + center crop (recorded for fastts' own predictor). */
  decodeTarget?: DecodeTarget;
  /** The fast.ai head's options (recorded). */
  head?: HeadOptions;
  /** Channels of the body's output (recorded). */
  nf?: number;
}

/** Options of {@link toOnnx}. */
export interface ToOnnxOptions {
  /** Layout of the `pixels` input (default `NCHW`). */
  inputLayout?: OnnxInputLayout;
}

/** What {@link readOnnxInfo} finds in a fastts ONNX export. */
export interface OnnxModelInfo extends OnnxExportInfo {
  arch: string;
  inputLayout: OnnxInputLayout;
  /** The fastts version that wrote the file. */
  fasttsVersion: string;
  /** Names of the graph's input and outputs. */
  input: string;
  logits: string;
  probs: string;
}

/** The value of `metadata_props['fastts.format']` in a fastts ONNX export. */
export const ONNX_FORMAT = 'fastts-onnx';
/** The ONNX operator set the exporter writes. */
export const ONNX_OPSET = 17;
const IR_VERSION = 8;
const INPUT = 'pixels';
const LOGITS = 'logits';
const PROBS = 'probs';

const INPUT_DESCRIPTION =
  'float32 RGB pixel values 0..255 of the image resized (bilinear) so that its short side is `size`, then ' +
  "center-cropped to size x size (fast.ai's validation transform); the preprocessing is part of the graph";

/** The preprocessing as a user of another framework would write it (mean/std, or the Keras mode). */
function describePreprocessing(p: Preprocessing): Record<string, unknown> {
  const common = { name: p.name, scale: p.scale, offset: p.offset, bgr: p.bgr, description: p.description, inGraph: true };
  if (p.name === 'imagenet') return { ...common, mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD], meanStdScale: '0..1' };
  return { ...common, kerasMode: p.name };
}

function tensorInfo(name: string, dims: OnnxDim[], doc: string): OnnxValueInfo {
  return { name, type: { tensorType: { elemType: OnnxDataType.FLOAT, shape: { dim: dims } } }, docString: doc };
}

/** `pixels` -> the architecture's input: NCHW, scaled and offset per channel, BGR when the weights want it. */
function emitPreprocessing(g: OnnxGraphBuilder, p: Preprocessing, size: number, layout: OnnxInputLayout): OnnxValue {
  let x: OnnxValue = { name: g.reserve(INPUT), shape: layout === 'NCHW' ? [3, size, size] : [size, size, 3] };
  if (layout === 'NHWC') x = g.node('Transpose', 'pixels_nchw', [x.name], [3, size, size], { perm: attr.ints([0, 3, 1, 2]) });
  const scale = g.constant('preprocess.scale', [...p.scale], [3, 1, 1]);
  const offset = g.constant('preprocess.offset', [...p.offset], [3, 1, 1]);
  x = g.node('Mul', 'preprocess.mul', [x.name, scale], x.shape);
  x = g.node('Add', 'preprocess.add', [x.name, offset], x.shape);
  if (p.bgr)
    x = g.node('Gather', 'preprocess.bgr', [x.name, g.int64Constant('preprocess.bgr_order', [2, 1, 0])], x.shape, {
      axis: attr.int(1),
    });
  return x;
}

/**
 * Writes `model` as an ONNX model (the bytes of an `.onnx` file) that maps `pixels` to `logits` and `probs`.
 * The model's weights are read, not changed (its train/eval mode does not matter: the export is eval mode).
 * Throws an {@link OnnxExportError} naming the first module the exporter does not know.
 */
export async function toOnnx(model: Module, info: OnnxExportInfo, options: ToOnnxOptions = {}): Promise<Uint8Array> {
  const layout = options.inputLayout ?? 'NCHW';
  if (layout !== 'NCHW' && layout !== 'NHWC')
    throw new OnnxExportError(`toOnnx: inputLayout must be 'NCHW' or 'NHWC', got '${String(layout)}'`);
  if (!(Number.isInteger(info.size) && info.size >= 2))
    throw new OnnxExportError(`toOnnx: size must be an integer >= 2, got ${info.size}`);
  if (info.classes.length === 0) throw new OnnxExportError('toOnnx: the model needs at least one class name');
  const g = new OnnxGraphBuilder();
  const x = emitPreprocessing(g, info.preprocessing, info.size, layout);
  const y = await emitModule(g, x, model, '');
  if (y.shape.length !== 1 || y.shape[0] !== info.classes.length) {
    throw new OnnxExportError(
      `toOnnx: the model's output has shape [N,${y.shape.join(',')}] but there are ${info.classes.length} classes ` +
        '(the model must end in a Linear layer with one output per class)',
    );
  }
  const logits = g.node('Identity', LOGITS, [y.name], y.shape);
  g.node('Softmax', PROBS, [logits.name], y.shape, { axis: attr.int(1) });
  const n: OnnxDim = { dimParam: 'N' };
  const dims = (shape: readonly number[]): OnnxDim[] => [n, ...shape.map((d) => ({ dimValue: d }))];
  const arch = info.arch ?? model.constructor.name;
  const meta: Record<string, string> = {
    'fastts.format': ONNX_FORMAT,
    'fastts.version': VERSION,
    arch,
    classes: JSON.stringify(info.classes),
    size: String(info.size),
    input_layout: layout,
    input_description: INPUT_DESCRIPTION,
    preprocessing: JSON.stringify(describePreprocessing(info.preprocessing)),
    outputs: `${LOGITS}: [N, classes] logits; ${PROBS}: their softmax`,
    ...(info.decodeTarget ? { decodeTarget: JSON.stringify(info.decodeTarget) } : {}),
    ...(info.head ? { head: JSON.stringify(info.head) } : {}),
    ...(info.nf !== undefined ? { nf: String(info.nf) } : {}),
  };
  const inputShape = layout === 'NCHW' ? [3, info.size, info.size] : [info.size, info.size, 3];
  return encodeOnnxModel({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'fastts',
    producerVersion: VERSION,
    docString: `${arch} image classifier (${info.classes.length} classes: ${info.classes.join(', ')}), exported by fastts ${VERSION}. Input ${INPUT}: ${INPUT_DESCRIPTION}.`,
    graph: {
      name: arch,
      node: g.nodes,
      initializer: g.initializers,
      input: [tensorInfo(INPUT, dims(inputShape), `${layout} ${INPUT_DESCRIPTION}`)],
      output: [
        tensorInfo(LOGITS, dims(y.shape), 'class logits, in the order of metadata `classes`'),
        tensorInfo(PROBS, dims(y.shape), 'softmax of the logits'),
      ],
    },
    metadataProps: Object.entries(meta).map(([key, value]) => ({ key, value })),
  });
}

function parseJson<T>(file: string, key: string, text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new OnnxExportError(`${file}: its ONNX metadata '${key}' is not valid JSON; export the model again`);
  }
}

/**
 * Reads what a fastts ONNX export records (classes, size, preprocessing, input layout, ...) from the file's
 * bytes. Throws an {@link OnnxExportError} for a file that is not ONNX or not written by fastts.
 * @param file the file's name, for error messages
 */
export function readOnnxInfo(bytes: Uint8Array, file = 'the model'): OnnxModelInfo {
  let decoded;
  try {
    decoded = decodeOnnxModel(bytes);
  } catch (e) {
    throw new OnnxExportError(
      `${file} is not an ONNX model (${(e as Error).message}); export one with learn.export({ format: 'onnx' })`,
    );
  }
  const meta = new Map(decoded.metadataProps.map((e) => [e.key, e.value]));
  if (meta.get('fastts.format') !== ONNX_FORMAT) {
    throw new OnnxExportError(
      `${file} is an ONNX model but not a fastts export (no fastts metadata); export one with learn.export({ format: 'onnx' })`,
    );
  }
  const classes = parseJson<string[]>(file, 'classes', meta.get('classes'));
  const size = Number(meta.get('size'));
  const pre = parseJson<Preprocessing>(file, 'preprocessing', meta.get('preprocessing'));
  const layout = meta.get('input_layout');
  if (!Array.isArray(classes) || !(size >= 2) || !pre || (layout !== 'NCHW' && layout !== 'NHWC')) {
    throw new OnnxExportError(
      `${file} lacks the classes, size, preprocessing or input layout in its metadata; export the model again`,
    );
  }
  const decodeTarget = parseJson<DecodeTarget>(file, 'decodeTarget', meta.get('decodeTarget'));
  const head = parseJson<HeadOptions>(file, 'head', meta.get('head'));
  const nf = meta.has('nf') ? Number(meta.get('nf')) : undefined;
  return {
    arch: meta.get('arch') ?? 'unknown',
    classes,
    size,
    preprocessing: { name: pre.name, scale: pre.scale, offset: pre.offset, bgr: pre.bgr, description: pre.description },
    inputLayout: layout,
    fasttsVersion: meta.get('fastts.version') ?? 'unknown',
    input: decoded.graph.input[0]?.name ?? INPUT,
    logits: LOGITS,
    probs: PROBS,
    ...(decodeTarget ? { decodeTarget } : {}),
    ...(head ? { head } : {}),
    ...(nf !== undefined ? { nf } : {}),
  };
}

/**
 * Inference from a fastts ONNX export (`learn.export({ format: 'onnx' })`) through ONNX Runtime: the native
 * engine for `fastts predict`, batch prediction and servers on Node. Images are resized and center-cropped by
 * fastts' own transform (the same pixels the tfjs path sees), the network runs in ONNX Runtime.
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { argMax } from '@fastts/core/platform';
import { readOnnxInfo, type OnnxModelInfo } from '@fastts/core/onnx';
import { transformImages } from '@fastts/core/transforms';
import { type DecodedImage, type DecodeTarget, type Prediction } from '@fastts/core';
import {
  hasCudaProvider,
  loadOnnxRuntime,
  ORT_MODULE,
  type OrtModule,
  type OrtSessionLike,
  type OrtSessionOptions,
} from './runtime.js';

/** Where ONNX Runtime runs the network. */
export type OnnxDevice = 'auto' | 'cpu' | 'cuda';

/** Options of {@link loadOnnxLearner}. */
export interface LoadOnnxLearnerOptions {
  /**
   * `auto` (default): the CUDA execution provider when its library is installed and a session starts on it, else
   * the CPU; `cpu`; `cuda` (an error when it cannot start).
   */
  device?: OnnxDevice;
  /** Intra-op threads of the CPU provider (default: ONNX Runtime's, one per physical core). */
  threads?: number;
  /** The ONNX Runtime module (default: `onnxruntime-node`, loaded on first use). */
  runtime?: OrtModule;
}

/** Options of {@link OnnxLearner.predictBatch}. */
export interface OnnxPredictBatchOptions {
  /** Images per ONNX Runtime call (default 16). */
  bs?: number;
}

/** A fastts ONNX export loaded in ONNX Runtime, predicting decoded images like `loadLearner`'s `InferenceLearner`. */
export class OnnxLearner {
  /** The inference engine (for callers that hold either kind of learner). */
  readonly engine = 'onnx' as const;

  constructor(
    private readonly session: OrtSessionLike,
    private readonly ort: OrtModule,
    /** What the export records: classes, size, preprocessing, input layout, decode target, ... */
    readonly info: OnnxModelInfo,
    /** The execution provider the session runs on. */
    readonly executionProvider: 'cpu' | 'cuda',
  ) {}

  /** The architecture. */
  get arch(): string {
    return this.info.arch;
  }

  /** Class names, in the order of the model's outputs. */
  get classes(): readonly string[] {
    return this.info.classes;
  }

  /** How to decode images for {@link predict} to see them as in training. */
  get decodeTarget(): DecodeTarget | undefined {
    return this.info.decodeTarget;
  }

  /**
   * Runs the network on `n` prepared images: `pixels` holds their RGB values 0..255, `size x size`, in the model's
   * input layout (`info.inputLayout`, NCHW unless exported otherwise). Returns logits and softmax probabilities,
   * `n x classes` each, row-major.
   */
  async predictPixels(pixels: Float32Array, n: number): Promise<{ logits: Float32Array; probs: Float32Array }> {
    const { size, inputLayout } = this.info;
    if (!(Number.isInteger(n) && n >= 1) || pixels.length !== n * 3 * size * size) {
      throw new RangeError(
        `predictPixels: expected ${n} images of ${size}x${size}x3 values (${n * 3 * size * size}), got ${pixels.length}`,
      );
    }
    const dims = inputLayout === 'NCHW' ? [n, 3, size, size] : [n, size, size, 3];
    const out = await this.session.run({ [this.info.input]: new this.ort.Tensor('float32', pixels, dims) });
    const logits = out[this.info.logits]?.data;
    const probs = out[this.info.probs]?.data;
    if (!(logits instanceof Float32Array) || !(probs instanceof Float32Array)) {
      throw new Error(`the ONNX model has no float32 outputs '${this.info.logits}' and '${this.info.probs}': export it again`);
    }
    return { logits, probs };
  }

  /** Resizes + center-crops decoded images (fast.ai's validation transform) into the model's input layout. */
  private async prepare(images: readonly DecodedImage[]): Promise<Float32Array> {
    const x = tf.tidy(() => {
      const batch = transformImages(images, { size: this.info.size });
      return this.info.inputLayout === 'NCHW' ? tf.transpose(batch, [0, 3, 1, 2]) : batch;
    });
    try {
      return (await x.data()) as Float32Array;
    } finally {
      x.dispose();
    }
  }

  /**
   * Predicts decoded images (any size: resized and center-cropped as validation images are), `bs` per ONNX
   * Runtime call; one prediction per image, in order.
   */
  async predictBatch(images: readonly DecodedImage[], options: OnnxPredictBatchOptions = {}): Promise<Prediction[]> {
    const bs = options.bs ?? 16;
    if (!(Number.isInteger(bs) && bs >= 1)) throw new RangeError(`predictBatch: bs must be a positive integer, got ${bs}`);
    const c = this.classes.length;
    const out: Prediction[] = [];
    for (let start = 0; start < images.length; start += bs) {
      const chunk = images.slice(start, start + bs);
      const { probs } = await this.predictPixels(await this.prepare(chunk), chunk.length);
      for (let i = 0; i < chunk.length; i++) {
        const row = Array.from(probs.subarray(i * c, (i + 1) * c));
        const index = argMax(row);
        out.push({ className: this.classes[index]!, index, probs: row });
      }
    }
    return out;
  }

  /** Predicts one decoded image (resized and center-cropped like validation images). */
  async predict(image: DecodedImage): Promise<Prediction> {
    const [p] = await this.predictBatch([image]);
    return p!;
  }

  /** Releases the ONNX Runtime session. */
  async dispose(): Promise<void> {
    await this.session.release();
  }
}

async function createSession(
  ort: OrtModule,
  bytes: Uint8Array,
  file: string,
  options: LoadOnnxLearnerOptions,
): Promise<{ session: OrtSessionLike; provider: 'cpu' | 'cuda' }> {
  const device = options.device ?? 'auto';
  const base: OrtSessionOptions = {
    graphOptimizationLevel: 'all',
    ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
  };
  const cudaInstalled = hasCudaProvider();
  if (device === 'cuda' && !cudaInstalled) {
    throw new Error(
      `ONNX Runtime's CUDA execution provider is not installed (its library comes with ${ORT_MODULE}'s install script, which ` +
        `fastts denies by default): allow it (\`npm install-scripts approve ${ORT_MODULE} && npm rebuild ${ORT_MODULE}\`, needs network), or use device 'cpu'`,
    );
  }
  if (device === 'cuda' || (device === 'auto' && cudaInstalled)) {
    try {
      return {
        session: await ort.InferenceSession.create(bytes, { ...base, executionProviders: ['cuda', 'cpu'] }),
        provider: 'cuda',
      };
    } catch (e) {
      if (device === 'cuda') {
        throw new Error(
          `ONNX Runtime's CUDA execution provider did not start for ${file} (${(e as Error).message.split('\n')[0]}); use device 'cpu'`,
        );
      }
    }
  }
  return { session: await ort.InferenceSession.create(bytes, { ...base, executionProviders: ['cpu'] }), provider: 'cpu' };
}

/**
 * Loads a fastts ONNX export (`export.onnx`) into ONNX Runtime for inference (the ONNX counterpart of
 * `loadLearner`). Needs `onnxruntime-node` (an optional dependency of @fastts/node-gpu): rejects with an
 * `OnnxRuntimeUnavailableError` saying how to install it when it is missing.
 */
export async function loadOnnxLearner(file: string, options: LoadOnnxLearnerOptions = {}): Promise<OnnxLearner> {
  const ort = options.runtime ?? (await loadOnnxRuntime());
  let bytes: Uint8Array;
  try {
    const b = await readFile(file);
    bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    throw new Error(
      `cannot read the ONNX model ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): export one with learn.export({ format: 'onnx' })`,
    );
  }
  const info = readOnnxInfo(bytes, file);
  const { session, provider } = await createSession(ort, bytes, file, options);
  return new OnnxLearner(session, ort, info, provider);
}

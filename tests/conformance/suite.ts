/**
 * The backend conformance suite, written once and run on every backend (Node wasm, Node WebGPU through Dawn,
 * Chromium WebGPU, Chromium wasm, and the GPU machine): the same core code must give the CPU reference's numbers.
 *
 *  1. forward   — pretrained MobileNet v1 0.25 on real photos at 224 px: logits match the `cpu` backend, and the
 *                 top-1 classes are ImageNet's expected ones.
 *  2. gradient  — one training step (train-mode BatchNorm, cross-entropy, AdamW) on real photos at 48 px: loss and
 *                 every parameter's gradient match `cpu`, and the loss after the step matches and went down.
 *  3. training  — fastts' one-cycle (`Learner.fitOneCycle`) trains a tiny CNN from scratch on doraemon-walle at
 *                 16 px (the software adapter is slow) to {@link THRESHOLDS.trainAccuracy} validation accuracy.
 *  4. memory    — during that training, live tensors and bytes stay flat from batch to batch (no leak).
 *
 * Platform-free: the environment registers the backend under test, hands over the fixtures (files come from
 * `../shared` via fs on Node, via HTTP in the browser) and reads the JSON-able report.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { AdamW } from '@fastts/core/platform';
import { AdaptiveConcatPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Linear, ReLU, Sequential } from '@fastts/core/nn';
import { Learner, accuracy, crossEntropyLoss, type DataBunch, type DecodedImage, type FromFolderOptions } from '@fastts/core';
import { createModel, preprocess, type ArchModel } from '@fastts/core/models';
import { pretrainedFromLayersModel, type PretrainedWeights } from '@fastts/core/weights';

/** The pretrained model of the suite (smallest of the offline weights). */
export const ARCH = 'mobilenet_v1_0.25_224';

/**
 * Image side of the gradient check. At 48 px every backend agrees with cpu to ~3e-5 (L2). At 64 px wasm's
 * whole-network gradient differs by 2.4e-3 although each of its kernels agrees to <2e-6 at every shape of that
 * network: an unexplained sensitivity, left open (reported with the GPU-adapters issue), not hidden by a loose bound.
 */
export const GRAD_SIZE = 48;

/**
 * Image side of the training check: the software WebGPU adapter (SwiftShader) runs these small convolutions at
 * ~0.01-0.2 GFLOP/s.
 */
export const TRAIN_SIZE = 16;
/** One-cycle epochs of the training check. */
export const DEFAULT_EPOCHS = 4;
/** Peak learning rate of the training check. */
export const TRAIN_MAX_LR = 1e-2;

/**
 * The tiny model of the training check: two strided 3x3 conv + BatchNorm + ReLU blocks, fast.ai's concat pooling
 * (max ++ avg) and a linear classifier (~5k parameters, ~0.2 MFLOP per 16 px image), built from core's nn modules
 * with seeded initial weights.
 */
export function tinyCnn(classes: number, seed = 1): Sequential {
  let s = seed;
  const init = (shape: number[]) => {
    const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const bound = Math.sqrt(6 / fanIn);
    return tf.randomUniform(shape, -bound, bound, 'float32', s++);
  };
  return new Sequential(
    new Conv2d(3, 16, 3, { stride: 2, padding: 1, bias: false, init }),
    new BatchNorm2d(16),
    new ReLU(),
    new Conv2d(16, 32, 3, { stride: 2, padding: 1, bias: false, init }),
    new BatchNorm2d(32),
    new ReLU(),
    new AdaptiveConcatPool2d(),
    new Flatten(),
    new Linear(64, classes, { init }),
  );
}

/** Tolerances and targets, stated once. */
export const THRESHOLDS = {
  /** Max |logit - cpu logit| / max |cpu logit| in the forward check. */
  forwardRel: 1e-3,
  /**
   * ||grad - cpu grad|| / ||cpu grad|| over all parameters together; a wrong kernel gives ~1. Measured at 48 px:
   * wasm 1.3e-5, WebGPU (SwiftShader) 2.9e-5.
   */
  gradGlobalRel: 1e-3,
  /**
   * Max over parameters of max |grad - cpu grad| / max |cpu grad| (train-mode BatchNorm over the few values of the
   * deepest layers amplifies float32 rounding). Measured: wasm 3.4e-5, WebGPU 1.0e-4.
   */
  gradRel: 5e-3,
  /** Relative difference of the loss to cpu's (measured ~1e-5). */
  lossRel: 1e-4,
  /**
   * Relative difference of the loss after one AdamW step: Adam's first step moves every weight by ~lr * sign(grad),
   * so gradients near zero that differ in sign move weights by 2 lr. Measured: wasm 4e-5, WebGPU 0.
   */
  lossAfterRel: 1e-3,
  /**
   * Validation accuracy (33 images) and loss of the tiny CNN after one-cycle training; chance is 0.5 / 0.69.
   * Measured with the defaults (wasm, WebGPU): 0.91-0.94, loss 0.25-0.28.
   */
  trainAccuracy: 0.8,
  trainLoss: 0.45,
  /** Live tensors may vary this much between training batches (batches prefetched ahead), never trend up. */
  memoryTensorSlack: 8,
} as const;

/** A real photo and the ImageNet class the pretrained model gives it (shared/models/imagenet-samples). */
export interface SamplePhoto {
  name: string;
  /** Decoded at its own size, HWC RGB. */
  image: DecodedImage;
  /** Expected top-1 ImageNet class of {@link ARCH} (expected.json). */
  top1: number;
  /** Its probability; only photos above {@link STABLE_PROB} keep their top-1 across JPEG decoders. */
  prob: number;
}

/** Predictions above this probability are stable across decoders and resize kernels (shared/README.md). */
export const STABLE_PROB = 0.6;

/** What the environment provides. */
export interface ConformanceFixtures {
  /** `model.json` of {@link ARCH} (parsed or raw). */
  modelJson: string | Uint8Array | object;
  /** Reads a weight shard named in the manifest. */
  loadShard(path: string): Promise<Uint8Array>;
  /** Real photos with their expected classes: at least four, two of them above {@link STABLE_PROB}. */
  photos: SamplePhoto[];
  /** The doraemon-walle DataBunch with these options, through the platform's own data path. */
  dataBunch(options: FromFolderOptions): Promise<DataBunch>;
}

/** The checks, in order. */
export const CHECKS = ['forward', 'gradient', 'training', 'memory'] as const;
export type CheckName = (typeof CHECKS)[number];

/** Options of {@link runConformance}. */
export interface ConformanceOptions {
  /** The tfjs backend under test (already registered by the environment). */
  backend: string;
  /** Reference backend. Default `cpu`. */
  reference?: string;
  /** Checks to run (default all). `memory` needs `training`. */
  checks?: readonly CheckName[];
  /** Training epochs of the one-cycle check. Default 3. */
  epochs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** One check's outcome. */
export interface CheckResult {
  name: CheckName;
  ok: boolean;
  /** Wall time in milliseconds. */
  ms: number;
  /** One readable line: what was measured against what. */
  detail: string;
  /** The numbers behind it. */
  values: Record<string, number | string | boolean | number[]>;
}

/** The suite's outcome on one backend. */
export interface ConformanceReport {
  backend: string;
  reference: string;
  ok: boolean;
  checks: CheckResult[];
  /** Extra facts the environment adds (adapter, versions). */
  env?: Record<string, unknown>;
}

function relDiff(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < b.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    maxRef = Math.max(maxRef, Math.abs(b[i]!));
  }
  return maxDiff / (maxRef + 1e-12);
}

function argMaxRows(data: Float32Array | Int32Array | Uint8Array, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r * cols < data.length; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (data[r * cols + c]! > data[r * cols + best]!) best = c;
    out.push(best);
  }
  return out;
}

/** Resizes photos bilinearly (as tf.image.resizeBilinear) into one NHWC float32 array, on the reference. */
async function photoBatch(photos: SamplePhoto[], size: number): Promise<Float32Array> {
  const t = tf.tidy(() =>
    tf.concat(
      photos.map(({ image }) =>
        tf.expandDims(
          tf.image.resizeBilinear(
            tf.cast(tf.tensor3d(image.data, [image.height, image.width, 3], 'int32'), 'float32') as tf.Tensor3D,
            [size, size],
          ),
          0,
        ),
      ),
    ),
  );
  const data = (await t.data()) as Float32Array;
  t.dispose();
  return data;
}

/**
 * A Module state (parameters and buffers) as plain arrays, so the same numbers can be loaded on another backend
 * without moving tensors between backends (reading WebGPU tensors synchronously fails in Node).
 */
type Snapshot = Map<string, { shape: number[]; data: Float32Array }>;

async function snapshot(model: ArchModel): Promise<Snapshot> {
  const sd = model.stateDict({ layout: 'native' });
  const out: Snapshot = new Map();
  for (const [k, t] of sd) out.set(k, { shape: t.shape, data: Float32Array.from(await t.data()) });
  tf.dispose([...sd.values()]);
  return out;
}

function restore(model: ArchModel, snap: Snapshot): void {
  const sd = new Map([...snap].map(([k, v]) => [k, tf.tensor(v.data, v.shape)]));
  model.loadStateDict(sd, { layout: 'native' });
  tf.dispose([...sd.values()]);
}

async function timed(name: CheckName, fn: () => Promise<Omit<CheckResult, 'name' | 'ms'>>): Promise<CheckResult> {
  const t0 = performance.now();
  try {
    const r = await fn();
    return { name, ms: Math.round(performance.now() - t0), ...r };
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    const stack = e instanceof Error ? (e.stack ?? '').split('\n').slice(1, 8).join('\n') : '';
    return { name, ok: false, ms: Math.round(performance.now() - t0), detail: `threw ${msg}`, values: { stack } };
  }
}

/** Runs the suite on `options.backend` against the reference backend. */
export async function runConformance(fixtures: ConformanceFixtures, options: ConformanceOptions): Promise<ConformanceReport> {
  const { backend, reference = 'cpu', checks = CHECKS, epochs = DEFAULT_EPOCHS, log = () => {} } = options;
  const use = async (name: string) => {
    if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new Error(`backend ${name} failed to start`);
  };
  const weightsOnActive = (): Promise<PretrainedWeights> =>
    pretrainedFromLayersModel(ARCH, fixtures.modelJson, (p) => fixtures.loadShard(p), 'shared/models');
  const results: CheckResult[] = [];

  if (checks.includes('forward')) {
    log('forward: pretrained MobileNet on real photos at 224 px');
    results.push(
      await timed('forward', async () => {
        await use(reference);
        const photos = fixtures.photos.filter((p) => p.prob >= STABLE_PROB);
        if (photos.length < 2) throw new Error(`need two photos with a stable top-1, got ${photos.length}`);
        const pixels = await photoBatch(photos, 224);
        const n = photos.length;
        const logitsOn = async (name: string) => {
          await use(name);
          const weights = await weightsOnActive();
          const model = createModel(ARCH, { weights });
          tf.dispose([...weights.stateDict.values()]);
          model.eval();
          const y = tf.tidy(() => model.forward(preprocess(ARCH, tf.tensor4d(pixels, [n, 224, 224, 3]))));
          const data = (await y.data()) as Float32Array;
          const cols = y.shape[1]!;
          y.dispose();
          model.dispose();
          return { data, cols };
        };
        let t = performance.now();
        const ref = await logitsOn(reference);
        const referenceMs = Math.round(performance.now() - t);
        t = performance.now();
        const got = await logitsOn(backend);
        const backendMs = Math.round(performance.now() - t);
        const rel = relDiff(got.data, ref.data);
        const top1 = argMaxRows(got.data, got.cols);
        const refTop1 = argMaxRows(ref.data, ref.cols);
        const expected = photos.map((p) => p.top1);
        const ok = rel <= THRESHOLDS.forwardRel && top1.every((c, i) => c === expected[i] && c === refTop1[i]);
        return {
          ok,
          detail: `logits rel. diff ${rel.toExponential(2)} (<= ${THRESHOLDS.forwardRel}); top-1 ${top1} (expected ${expected})`,
          values: { logitsRelDiff: rel, top1, expectedTop1: expected, referenceTop1: refTop1, referenceMs, backendMs },
        };
      }),
    );
  }

  if (checks.includes('gradient')) {
    log(`gradient: one AdamW step on real photos at ${GRAD_SIZE} px`);
    results.push(
      await timed('gradient', async () => {
        await use(reference);
        const photos = fixtures.photos.slice(0, 4);
        const n = photos.length;
        const pixels = await photoBatch(photos, GRAD_SIZE);
        const labels = photos.map((_, i) => i % 2);
        const weights = await weightsOnActive();
        const init = createModel(ARCH, { numClasses: 2, weights });
        tf.dispose([...weights.stateDict.values()]);
        const start = await snapshot(init);
        init.dispose();
        // The new 2-class classifier starts random: make it the same on every run (the pretrained body already is).
        let seed = 12345;
        const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
        for (const [k, v] of start) {
          if (!k.startsWith('conv_preds.')) continue;
          const bound = 1 / Math.sqrt(v.shape.slice(0, -1).reduce((a, b) => a * b, 1));
          for (let i = 0; i < v.data.length; i++) v.data[i] = rand() * bound;
        }

        const stepOn = async (name: string) => {
          await use(name);
          const model = createModel(ARCH, { numClasses: 2 });
          restore(model, start);
          // Train-mode BatchNorm (batch statistics), but no dropout: its random masks differ between backends.
          model.train();
          for (const m of model.modulesList()) if (m instanceof Dropout) m.eval();
          const x = tf.tidy(() => preprocess(ARCH, tf.tensor4d(pixels, [n, GRAD_SIZE, GRAD_SIZE, 3])));
          const y = tf.tensor1d(labels, 'int32');
          const lossFn = crossEntropyLoss();
          const named = model.namedParameters().filter(([, v]) => v.trainable);
          const { value, grads } = tf.variableGrads(
            () => lossFn(model.forward(x), y) as tf.Scalar,
            named.map(([, v]) => v),
          );
          const loss = (await value.data())[0]!;
          const gradData = new Map<string, Float32Array>();
          const byVar = new Map(named.map(([k, v]) => [v.name, k]));
          const stepGrads = new Map<string, tf.Tensor>();
          for (const [vname, g] of Object.entries(grads)) {
            const key = byVar.get(vname)!;
            gradData.set(key, (await g.data()) as Float32Array);
            stepGrads.set(key, g);
          }
          const opt = new AdamW([named.map(([k, v]) => ({ name: k, variable: v }))], { lr: 1e-3 });
          opt.step(stepGrads);
          const after = tf.tidy(() => lossFn(model.forward(x), y));
          const lossAfter = (await after.data())[0]!;
          tf.dispose([value, after, x, y, ...stepGrads.values()]);
          opt.resetState();
          model.dispose();
          return { loss, lossAfter, gradData };
        };
        let t = performance.now();
        const ref = await stepOn(reference);
        const referenceMs = Math.round(performance.now() - t);
        t = performance.now();
        const got = await stepOn(backend);
        const backendMs = Math.round(performance.now() - t);
        let worst = 0;
        let worstName = '';
        const perParam: [string, number][] = [];
        let diff2 = 0;
        let ref2 = 0;
        for (const [k, g] of ref.gradData) {
          const mine = got.gradData.get(k) ?? new Float32Array(g.length).fill(NaN);
          for (let i = 0; i < g.length; i++) {
            diff2 += (mine[i]! - g[i]!) ** 2;
            ref2 += g[i]! ** 2;
          }
          const d = relDiff(mine, g);
          perParam.push([k, d]);
          if (!(d <= worst)) {
            worst = d;
            worstName = k;
          }
        }
        const globalRel = Math.sqrt(diff2 / ref2);
        perParam.sort((a, b) => b[1] - a[1]);
        log(
          `  worst gradients: ${perParam
            .slice(0, 5)
            .map(([k, d]) => `${k} ${d.toExponential(2)}`)
            .join(', ')}`,
        );
        const lossRel = Math.abs(got.loss - ref.loss) / Math.abs(ref.loss);
        const afterRel = Math.abs(got.lossAfter - ref.lossAfter) / Math.abs(ref.lossAfter);
        const ok =
          globalRel <= THRESHOLDS.gradGlobalRel &&
          worst <= THRESHOLDS.gradRel &&
          lossRel <= THRESHOLDS.lossRel &&
          afterRel <= THRESHOLDS.lossAfterRel &&
          got.lossAfter < got.loss;
        return {
          ok,
          detail:
            `loss ${got.loss.toFixed(5)} vs ${ref.loss.toFixed(5)}; gradient rel. L2 error ${globalRel.toExponential(2)} ` +
            `(<= ${THRESHOLDS.gradGlobalRel}), worst parameter ${worst.toExponential(2)} ` +
            `(${worstName}, <= ${THRESHOLDS.gradRel}) over ${ref.gradData.size} parameters; after one AdamW step ` +
            `${got.lossAfter.toFixed(5)} vs ${ref.lossAfter.toFixed(5)}`,
          values: {
            loss: got.loss,
            referenceLoss: ref.loss,
            lossAfter: got.lossAfter,
            referenceLossAfter: ref.lossAfter,
            gradGlobalRelError: globalRel,
            worstGradRelDiff: worst,
            worstGradParam: worstName,
            parameters: ref.gradData.size,
            referenceMs,
            backendMs,
          },
        };
      }),
    );
  }

  const memory: { tensors: number[]; bytes: number[]; gpuBytes: number[] } = { tensors: [], bytes: [], gpuBytes: [] };
  if (checks.includes('training')) {
    log(`training: fitOneCycle(${epochs}) of a tiny CNN on doraemon-walle at ${TRAIN_SIZE} px`);
    results.push(
      await timed('training', async () => {
        await use(backend);
        const data = await fixtures.dataBunch({ size: TRAIN_SIZE, bs: 32, seed: 42, verify: 'none' });
        data.normalize((x) => tf.tidy(() => tf.sub(tf.div(x, 127.5), 1)));
        const model = tinyCnn(data.c);
        let last = performance.now();
        const learn = new Learner(data, model, {
          metrics: [accuracy],
          callbacks: [
            {
              name: 'MemoryProbe',
              afterBatch: (l) => {
                const now = performance.now();
                log(`  ${l.training ? 'train' : 'valid'} batch: ${Math.round(now - last)} ms`);
                last = now;
                if (!l.training) return;
                const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
                memory.tensors.push(m.numTensors);
                memory.bytes.push(m.numBytes);
                memory.gpuBytes.push(m.numBytesInGPU ?? 0);
              },
            },
          ],
        });
        await learn.fitOneCycle(epochs, { maxLr: TRAIN_MAX_LR });
        const stats = await learn.validate();
        const acc = stats.metrics[0]!;
        const rows = learn.recorder.rows.length;
        await learn.dispose();
        model.dispose();
        const ok = acc >= THRESHOLDS.trainAccuracy && stats.loss <= THRESHOLDS.trainLoss;
        log(`training: valid accuracy ${acc.toFixed(3)}`);
        return {
          ok,
          detail:
            `valid accuracy ${acc.toFixed(3)} (>= ${THRESHOLDS.trainAccuracy}), ` +
            `valid loss ${stats.loss.toFixed(4)} (<= ${THRESHOLDS.trainLoss}), ${epochs} epoch(s)`,
          values: { validAccuracy: acc, validLoss: stats.loss, epochs, rows, batches: memory.tensors.length },
        };
      }),
    );
    if (checks.includes('memory')) {
      results.push(
        await timed('memory', async (): Promise<Omit<CheckResult, 'name' | 'ms'>> => {
          const t = memory.tensors;
          if (t.length < 6) {
            return { ok: false, detail: `only ${t.length} training batches were observed`, values: { tensors: t } };
          }
          // From the third batch on (optimizer moments and pools exist by then), nothing may accumulate.
          const steady = t.slice(2);
          const growth = Math.max(...steady) - steady[0]!;
          const endGrowth = steady[steady.length - 1]! - steady[0]!;
          const bytes = memory.bytes.slice(2);
          const byteGrowth = bytes[bytes.length - 1]! - bytes[0]!;
          const ok = growth <= THRESHOLDS.memoryTensorSlack && endGrowth <= 0 && byteGrowth <= 0;
          return {
            ok,
            detail:
              `live tensors over ${t.length} batches: ${steady[0]} -> ${steady[steady.length - 1]} (max +${growth}); ` +
              `bytes ${bytes[0]} -> ${bytes[bytes.length - 1]}`,
            values: { tensors: t, bytes: memory.bytes, gpuBytes: memory.gpuBytes },
          };
        }),
      );
    }
  }

  await use(reference).catch(() => {});
  return { backend, reference, ok: results.every((r) => r.ok), checks: results };
}

/** A short table of a report, one line per check. */
export function formatReport(r: ConformanceReport): string {
  const lines = [`conformance on ${r.backend} (reference ${r.reference}): ${r.ok ? 'PASS' : 'FAIL'}`];
  for (const c of r.checks) {
    lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(9)} ${String(c.ms).padStart(7)} ms  ${c.detail}`);
  }
  return lines.join('\n');
}

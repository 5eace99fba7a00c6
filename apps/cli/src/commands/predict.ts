/**
 * `fastts predict <model> <image|folder>...`: classifies images with an exported model. Images are decoded and
 * preprocessed exactly as the run's validation and test images (the export records how), so that predicting a
 * run's test folder reproduces its `test_predictions.csv`. `--engine auto` (the default) runs the network in ONNX
 * Runtime when the model has an `export.onnx` (`fastts export --format onnx`) and onnxruntime-node is installed.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  chooseInferenceEngine,
  DataLoader,
  decodeImageFile,
  Learner,
  loadOnnxLearner,
  type DecodeTarget,
  type InferenceLearner,
  type OnnxLearner,
} from '@fastts/node-gpu';
import { nodePlatform, probeImageFile } from '@fastts/node-gpu/platform';
import { ImageCache, ImageDataset } from '@fastts/core/platform';
import { preprocess } from '@fastts/core/models';
import { setupCliBackend } from '../backend.js';
import type { CommandContext } from '../context.js';
import { csvRow } from '../csv.js';
import { CliError, InterruptedError, toCliError, UsageError } from '../errors.js';
import { EXPORT_FILE, findExport, loadExport } from '../model-file.js';
import type { PredictOptions } from '../options.js';
import { expandImageInputs } from '../paths.js';
import { RUN_FILES } from '../run-dir.js';
import { ONNX_EXPORT_FILE } from './export.js';

/** One image's prediction: the most likely label and the top k. */
export interface ImagePrediction {
  file: string;
  label: string;
  probability: number;
  /** The `--top k` most likely labels, most likely first. */
  top: Array<{ label: string; probability: number }>;
}

/** Runs `fastts predict`. */
export async function runPredict(model: string, inputs: string[], options: PredictOptions, ctx: CommandContext): Promise<void> {
  const { io, reporter, interrupts } = ctx;
  const { engine, file } = await resolveEngine(model, options, io.cwd, reporter);
  const images = expandImageInputs(inputs, io.cwd);
  // The tfjs backend also resizes and crops the images for ONNX Runtime.
  await setupCliBackend(options, reporter);
  const learn: InferenceLearner | OnnxLearner =
    engine === 'onnx' ? await loadOnnxLearner(file, options.threads ? { threads: options.threads } : {}) : await loadExport(file);
  const k = Math.min(options.top, learn.classes.length);
  const on = 'executionProvider' in learn ? `ONNX Runtime, ${learn.executionProvider}` : 'tfjs';
  reporter.debug(`model: ${file} (${learn.arch}, ${learn.info.size} px, classes ${learn.classes.join(', ')}; ${on})`);

  const predictions: ImagePrediction[] = [];
  const failures: Array<{ file: string; error: string }> = [];
  if (options.csv) {
    const header = ['file', 'label', 'probability'];
    for (let i = 2; i <= k; i++) header.push(`label_${i}`, `probability_${i}`);
    reporter.out(csvRow(header));
  }
  try {
    // --tta: fast.ai's test-time augmentation (Learner.tta) over the images that decode, in batches.
    const tta =
      options.tta && !('executionProvider' in learn)
        ? await ttaPredictions(learn, images, options.bs, interrupts.signal)
        : undefined;
    for (const [n, image] of images.entries()) {
      if (interrupts.signal.aborted) throw new InterruptedError(`stopped by ${interrupts.by}`, { hint: 'run the command again' });
      let p: ImagePrediction;
      try {
        let pred: { probs: number[]; index: number; className: string };
        if (tta) {
          const t = tta[n]!;
          if (t instanceof Error) throw t;
          pred = t;
        } else {
          pred = await learn.predict(await decodeImageFile(image.path, decodeTargetOf(learn)));
        }
        const order = pred.probs.map((prob, index) => ({ prob, index })).sort((a, b) => b.prob - a.prob || a.index - b.index);
        const top = order.slice(0, k).map(({ prob, index }) => ({ label: learn.classes[index]!, probability: prob }));
        p = { file: image.display, label: pred.className, probability: pred.probs[pred.index]!, top };
      } catch (err) {
        // One image asked for: its error is the command's error (one line, exit 1).
        if (err instanceof InterruptedError || images.length === 1) throw err;
        const line = toCliError(err).line;
        failures.push({ file: image.display, error: line });
        reporter.log(`${reporter.errStyle.red('error:')} ${line}`);
        continue;
      }
      predictions.push(p);
      if (options.json) continue;
      if (options.csv) {
        const row: Array<string | number> = [p.file, p.label, p.probability];
        for (const t of p.top.slice(1)) row.push(t.label, t.probability);
        reporter.out(csvRow(row));
      } else {
        const rest = p.top.slice(1).map((t) => `${t.label} ${t.probability.toFixed(4)}`);
        reporter.out(`${p.file}  ${p.label}  ${p.probability.toFixed(4)}${rest.length ? `  (${rest.join(', ')})` : ''}`);
      }
    }
  } finally {
    await learn.dispose();
  }
  reporter.result({
    model: file,
    engine,
    arch: learn.arch,
    classes: learn.classes,
    predictions,
    ...(failures.length ? { errors: failures } : {}),
  });
  if (failures.length) {
    throw new CliError(`${failures.length} of ${images.length} image${images.length === 1 ? '' : 's'} could not be classified`, {
      hint: 'see the error lines above; fix or remove those files',
    });
  }
}

/**
 * The engine and model file: ONNX Runtime on the model's `export.onnx` (a folder's `model/export.onnx` or
 * `export.onnx`, or the `.onnx` file given) when `--engine` says so or, for `auto`, when there is one that is not
 * older than the weights it was exported from, onnxruntime-node loads and no `--tta` is asked for (TTA runs on tfjs);
 * otherwise tfjs on the `.safetensors` export.
 */
async function resolveEngine(
  model: string,
  options: PredictOptions,
  cwd: string,
  reporter: CommandContext['reporter'],
): Promise<{ engine: 'onnx' | 'tfjs'; file: string }> {
  const abs = resolve(cwd, model);
  const asked = options.engine ?? 'auto';
  const givenOnnx = abs.endsWith('.onnx') && existsSync(abs) && statSync(abs).isFile();
  if (givenOnnx && asked === 'tfjs') {
    throw new UsageError(`'${model}' is an ONNX model: tfjs reads the .safetensors export`, {
      hint: 'use --engine onnx, or give the run folder',
    });
  }
  if (options.tta && (asked === 'onnx' || givenOnnx)) {
    throw new UsageError('--tta runs on tfjs, not ONNX Runtime', {
      hint: 'use --engine tfjs with the run folder or its .safetensors export',
    });
  }
  let onnx: string | undefined;
  if (givenOnnx) onnx = abs;
  else if (existsSync(abs) && statSync(abs).isDirectory()) {
    onnx = [join(abs, RUN_FILES.model, ONNX_EXPORT_FILE), join(abs, ONNX_EXPORT_FILE)].find((f) => existsSync(f));
  }
  if (asked === 'onnx' && !onnx) {
    throw new UsageError(`'${model}' has no ONNX export (${RUN_FILES.model}/${ONNX_EXPORT_FILE})`, {
      hint: `write one with: fastts export ${model} --format onnx`,
    });
  }
  if (onnx && !givenOnnx) {
    const weights = [join(abs, RUN_FILES.model, EXPORT_FILE), join(abs, EXPORT_FILE)].find((f) => existsSync(f));
    if (weights && statSync(weights).mtimeMs > statSync(onnx).mtimeMs) {
      reporter.warn(`${onnx} is older than ${weights}: re-export it with fastts export ${model} --format onnx`);
      if (asked === 'auto') onnx = undefined;
    }
  }
  const engine = await chooseInferenceEngine(givenOnnx ? 'onnx' : options.tta ? 'tfjs' : asked, onnx);
  return { engine, file: engine === 'onnx' ? onnx! : findExport(model, cwd) };
}

/** How the run decoded its images (recorded in the export). */
export function decodeTargetOf(learn: { decodeTarget: DecodeTarget | undefined; info: { size: number } }): DecodeTarget {
  const d = Math.round(1.5 * learn.info.size);
  return learn.decodeTarget ?? { width: d, height: d, fit: 'fill' };
}

/**
 * Test-time augmentation of the exported model on `images`: a Learner around the exported model with the images as
 * its validation loader (decoded and preprocessed as in training), then `Learner.tta()` (fast.ai v1 `TTA`: 8 zoomed
 * and flipped views averaged, mixed with the plain prediction). Returns one result per image, or its decode error.
 *
 * Adapter: `loadLearner` gives an inference-only model without `tta()`, so this wraps it in a `Learner`.
 */
async function ttaPredictions(
  inf: InferenceLearner,
  images: ReadonlyArray<{ path: string }>,
  bs: number,
  signal: AbortSignal,
): Promise<Array<{ probs: number[]; index: number; className: string } | Error>> {
  const results: Array<{ probs: number[]; index: number; className: string } | Error> = [];
  const ok: number[] = [];
  for (const [i, image] of images.entries()) {
    try {
      await probeImageFile(image.path);
      ok.push(i);
      results.push(new Error('not predicted'));
    } catch (err) {
      results.push(err instanceof Error ? err : new Error(String(err)));
    }
  }
  if (ok.length === 0 || signal.aborted) return results;
  const classes = [...inf.classes];
  const dataset = new ImageDataset(
    ok.map((i) => images[i]!.path),
    ok.map(() => -1),
    classes,
    nodePlatform,
    decodeTargetOf(inf),
    new ImageCache(),
  );
  const dl = new DataLoader(dataset, { bs, size: inf.info.size, normalizer: (x) => preprocess(inf.info.preprocessing, x) });
  const learn = new Learner({ classes, c: classes.length, trainDl: dl, validDl: dl }, inf.model);
  try {
    const preds = await learn.tta({ ds: 'valid' });
    ok.forEach((i, k) => {
      const probs = preds.probs[k]!;
      const index = preds.preds[k]!;
      results[i] = { probs, index, className: classes[index]! };
    });
  } finally {
    await learn.dispose();
  }
  return results;
}

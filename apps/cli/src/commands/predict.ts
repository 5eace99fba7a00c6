/**
 * `fastts predict <model> <image|folder>...`: classifies images with an exported model. Images are decoded and
 * preprocessed exactly as the run's validation and test images (the export records how), so that predicting a
 * run's test folder reproduces its `test_predictions.csv`.
 */
import { decodeImageFile } from '@fastts/node-gpu';
import { setupCliBackend } from '../backend.js';
import type { CommandContext } from '../context.js';
import { csvRow } from '../csv.js';
import { CliError, InterruptedError, toCliError } from '../errors.js';
import { findExport, loadExport } from '../model-file.js';
import type { PredictOptions } from '../options.js';
import { expandImageInputs } from '../paths.js';

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
  const file = findExport(model, io.cwd);
  const images = expandImageInputs(inputs, io.cwd);
  if (options.tta) {
    throw new CliError('--tta is not available for exported models in this build', { hint: 'run without --tta' });
  }
  await setupCliBackend(options, reporter);
  const learn = await loadExport(file);
  const k = Math.min(options.top, learn.classes.length);
  reporter.debug(`model: ${file} (${learn.arch}, ${learn.info.size} px, classes ${learn.classes.join(', ')})`);

  const predictions: ImagePrediction[] = [];
  const failures: Array<{ file: string; error: string }> = [];
  if (options.csv) {
    const header = ['file', 'label', 'probability'];
    for (let i = 2; i <= k; i++) header.push(`label_${i}`, `probability_${i}`);
    reporter.out(csvRow(header));
  }
  try {
    for (const image of images) {
      if (interrupts.signal.aborted) throw new InterruptedError('stopped by Ctrl-C', { hint: 'run the command again' });
      let p: ImagePrediction;
      try {
        const decoded = await decodeImageFile(image.path, learn.decodeTarget ?? { width: learn.info.size, height: learn.info.size, fit: 'fill' });
        const pred = await learn.predict(decoded);
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
    learn.dispose();
  }
  reporter.result({ model: file, arch: learn.arch, classes: learn.classes, predictions, ...(failures.length ? { errors: failures } : {}) });
  if (failures.length) {
    throw new CliError(`${failures.length} of ${images.length} image${images.length === 1 ? '' : 's'} could not be classified`, {
      hint: 'see the error lines above; fix or remove those files',
    });
  }
}

/**
 * `fastts train`'s results: the exported model, the interpretation plots, the test predictions, the finished
 * status (the checkpoints then go: a finished run is not resumed), and the summary printed for the user.
 */
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { DataBunch, VisionLearner } from '@fastts/node-gpu';
import { writeInterpretation, type InterpretationSummary } from '../interpretation.js';
import type { Reporter } from '../output.js';
import { predictionsCsv, readMetrics, RUN_FILES, writeFileAtomic, type Prediction, type RunStatusFile } from '../run-dir.js';
import { writeThumbnails } from '../thumbs.js';
import { CHECKPOINT_DIR, EXPORT_FILE, type TrainConfig, type TrainResult } from './config.js';
import { checkAbort } from './setup.js';

/** Writes model/, the interpretation files and the test predictions; returns what the summary shows. */
export async function writeResults(
  learn: VisionLearner,
  data: DataBunch,
  config: TrainConfig,
  runDir: string,
  reporter: Reporter,
  signal: AbortSignal,
): Promise<{ interp: InterpretationSummary; test: Prediction[] }> {
  await learn.export(join(RUN_FILES.model, EXPORT_FILE));
  reporter.debug(`wrote ${RUN_FILES.model}/${EXPORT_FILE}`);
  checkAbort(signal);
  const interp = await writeInterpretation(learn, runDir, { topLosses: config.topLosses, dataDir: config.dataDir });
  checkAbort(signal);
  let test: Prediction[] = [];
  if (data.testDl) {
    const preds = await learn.getPreds({ ds: 'test' });
    test = preds.items.map((item, i) => ({
      file: relative(config.dataDir, item),
      label: config.classes[preds.preds[i]!]!,
      probability: preds.probs[i]![preds.preds[i]!]!,
    }));
    writeFileAtomic(join(runDir, RUN_FILES.testPredictions), predictionsCsv(test));
    await writeThumbnails(preds.items, join(runDir, 'thumbs', 'test'));
  }
  return { interp, test };
}

/**
 * Marks the run finished and removes its checkpoints (weights + optimizer state, the size of several models): the
 * exported model is what a finished run keeps, and a finished run is not resumed.
 */
export function finishRun(runDir: string, status: RunStatusFile, config: TrainConfig): void {
  status.write('finished', { totalIters: config.totalIters });
  const dir = join(runDir, CHECKPOINT_DIR);
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir))
    if (f.endsWith('.safetensors') || f.includes('.safetensors.tmp-')) rmSync(join(dir, f), { force: true });
  if (readdirSync(dir).length === 0) rmdirSync(dir);
}

/** The result object (`--json`) and the human summary of a finished run. */
export function reportResult(
  reporter: Reporter,
  r: {
    runDir: string;
    rel: string;
    config: TrainConfig;
    interp: InterpretationSummary;
    test: Prediction[];
    backend: string;
    seconds: number;
  },
): void {
  const epochs = readMetrics(r.runDir);
  const last = epochs[epochs.length - 1];
  const valid = last
    ? { loss: last.valid_loss, accuracy: last.accuracy }
    : { loss: r.interp.validLoss, accuracy: r.interp.accuracy };
  const result: TrainResult = {
    runDir: r.runDir,
    arch: r.config.arch,
    classes: r.config.classes,
    valid,
    epochs,
    test: r.test,
    backend: r.backend,
    seconds: Math.round(r.seconds * 10) / 10,
  };
  reporter.result(result);
  const s = reporter.style;
  reporter.out();
  reporter.out(`valid: accuracy ${valid.accuracy.toFixed(4)}, loss ${valid.loss.toFixed(4)}`);
  if (r.interp.mostConfused.length) {
    reporter.out(`most confused: ${r.interp.mostConfused.map(([a, p, n]) => `${a} -> ${p} (${n})`).join(', ')}`);
  }
  if (r.test.length) {
    reporter.out(`test predictions (${RUN_FILES.testPredictions}):`);
    for (const t of r.test) reporter.out(`  ${t.file}  ${t.label}  ${t.probability.toFixed(4)}`);
  }
  reporter.out(`${s.green('done')} in ${r.seconds.toFixed(0)} s: ${r.rel} (predict with: fastts predict ${r.rel} <image>)`);
}

/**
 * The interpretation files of a run: `confusion_matrix.png`, `top_losses.png` and `interpretation.json`, from
 * `ClassificationInterpretation.fromLearner` (the plots are core's SVGs, rasterized by node-gpu's `svgToPng`).
 */
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ClassificationInterpretation, svgToPng, type ConfusedPair, type Learner, type TopLoss } from '@fastts/node-gpu';
import { RUN_FILES, writeJson } from './run-dir.js';
import { writeThumbnails } from './thumbs.js';

/** What the commands print about an interpretation. */
export interface InterpretationSummary {
  accuracy: number;
  /** Mean cross-entropy over the validation set. */
  validLoss: number;
  confusion: number[][];
  mostConfused: ConfusedPair[];
  topLosses: TopLoss[];
  /** The files written. */
  files: string[];
}

/** Options of {@link writeInterpretation}. */
export interface WriteInterpretationOptions {
  /** Images in `top_losses.png`. */
  topLosses: number;
  /** Pairs confused fewer times are left out of `mostConfused`. */
  minVal?: number;
  /** The data folder, to record item paths relative to it. */
  dataDir: string;
}

/**
 * Interprets `learn`'s validation predictions and writes the plots, `interpretation.json` and the validation
 * thumbnails (`thumbs/valid/<i>.jpg`) into `outDir`.
 */
export async function writeInterpretation(
  learn: Learner,
  outDir: string,
  options: WriteInterpretationOptions,
): Promise<InterpretationSummary> {
  const interp = await ClassificationInterpretation.fromLearner(learn);
  const files = [
    join(outDir, RUN_FILES.confusionMatrix),
    join(outDir, RUN_FILES.topLosses),
    join(outDir, RUN_FILES.interpretation),
  ];
  await writeFile(files[0]!, await svgToPng(interp.plotConfusionMatrix()));
  const k = Math.min(options.topLosses, interp.n);
  await writeFile(files[1]!, await svgToPng(await interp.plotTopLosses(k)));
  const top = interp.topLossItems(k);
  const confusion = interp.confusionMatrix();
  let lossSum = 0;
  const thumbs = interp.items ? await writeThumbnails(interp.items, join(outDir, 'thumbs', 'valid')) : new Set<number>();
  const items = Array.from({ length: interp.n }, (_, i) => {
    lossSum += interp.losses[i]!;
    return {
      index: i,
      file: interp.items?.[i] !== undefined ? relative(options.dataDir, interp.items[i]!) : null,
      ...(thumbs.has(i) ? { thumb: `thumbs/valid/${i}.jpg` } : {}),
      actual: interp.targets[i]!,
      pred: interp.predClass[i]!,
      loss: interp.losses[i]!,
      prob: interp.probs[i * interp.c + interp.predClass[i]!]!,
    };
  });
  writeJson(files[2]!, { classes: interp.classes, confusion, items, topLosses: top.map((t) => t.index), k });
  return {
    accuracy: interp.accuracy(),
    validLoss: interp.n ? lossSum / interp.n : Number.NaN,
    confusion,
    mostConfused: interp.mostConfused(options.minVal ?? 1),
    topLosses: top,
    files,
  };
}

/**
 * `learn.export()`: what inference needs — weights, class names and the Learner's `exportInfo` (architecture,
 * input size, preprocessing) — in one file that `loadLearner` reads back.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import { encodeCheckpoint } from './checkpoint.js';
import { CHECKPOINT_VERSION } from './checkpoint-io.js';
import type { LearnerStorage } from './storage.js';

/** The `format` field of an export's metadata. */
export const EXPORT_FORMAT = 'fastts-export';

/** What {@link exportModel} writes. */
export interface ExportSource {
  readonly model: Module;
  readonly classes: readonly string[];
  /** Recorded beside the classes (e.g. a vision learner's arch, size, head and preprocessing). */
  readonly exportInfo: Readonly<Record<string, unknown>>;
}

/** Writes `src` to `file` as a fastts export (safetensors with the metadata), atomically through `storage`. */
export async function exportModel(storage: LearnerStorage, file: string, src: ExportSource): Promise<void> {
  const sd: Map<string, tf.Tensor> = src.model.stateDict({ layout: 'native' });
  try {
    await storage.writeFile(
      file,
      await encodeCheckpoint(sd, { format: EXPORT_FORMAT, version: CHECKPOINT_VERSION, classes: src.classes, ...src.exportInfo }),
    );
  } finally {
    for (const t of sd.values()) t.dispose();
  }
}

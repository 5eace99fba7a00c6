/**
 * What the Learner needs from the data area: the structural shape of a `DataBunch` and its `DataLoader`s.
 * (The data area's classes satisfy these; tests may pass simple objects.)
 */
import type * as tf from '@tensorflow/tfjs-core';

/** A batch: images `[N, H, W, C]` float32 (already normalized for the model), class indices `[N]` int32. */
export interface Batch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  /** Which items (indices into `items`) the batch holds, when the loader says so. */
  indices?: number[];
}

/** A loader of batches. The consumer disposes the tensors of each batch it receives. */
export interface LearnerDataLoader {
  /** The items (file paths) in the order batches come when not shuffled. */
  readonly items: readonly string[];
  /** Class index per item (-1 for unlabelled test items). */
  readonly labels: readonly number[];
  /** Number of batches per pass. */
  readonly length: number;
  /** Batch size. */
  readonly bs: number;
  [Symbol.asyncIterator](): AsyncIterator<Batch>;
  /** One pass with explicit settings (the data area's loaders): used to predict in item order without augmentation. */
  iterate?(opts: { shuffle?: boolean; augment?: boolean }): AsyncIterable<Batch>;
}

/** The data a Learner trains on (fast.ai `DataBunch`). */
export interface LearnerData {
  readonly classes: readonly string[];
  /** Number of classes. */
  readonly c: number;
  readonly trainDl: LearnerDataLoader;
  readonly validDl?: LearnerDataLoader | undefined;
  readonly testDl?: LearnerDataLoader | undefined;
}

/** Which data set: `'train'`, `'valid'` or `'test'` (fast.ai `DatasetType`). */
export type DatasetType = 'train' | 'valid' | 'test';

/** fast.ai's `DatasetType.Train/Valid/Test`, e.g. `learn.getPreds(DatasetType.Test)`. */
export const DatasetType = { Train: 'train', Valid: 'valid', Test: 'test' } as const satisfies Record<string, DatasetType>;

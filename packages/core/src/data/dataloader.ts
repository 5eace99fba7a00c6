/**
 * DataLoader: batches of a dataset as tensors, with seeded shuffling, drop-last, augmentation on the batch and
 * prefetching (the next batches' images decode while the current batch is being used).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Augmentation } from '../transforms/augmentation.js';
import type { BatchNormalizer } from '../transforms/normalize.js';
import { transformImages } from '../transforms/transform-images.js';
import type { ImageDataset } from './dataset.js';
import type { DecodedImage } from './image.js';
import { mapLimit } from './concurrency.js';
import { createRng, permutation, randomSeed } from './rng.js';

/** One batch: images and labels. The consumer owns (and must dispose) both tensors. */
export interface Batch {
  /** NHWC float32: pixel values 0..255, or the normalizer's output when one is set. */
  x: tf.Tensor4D;
  /** int32 class indices (-1 for unlabelled test items). */
  y: tf.Tensor1D;
  /** Which dataset items the batch holds (indices into `items`/`labels`), in batch order. */
  indices: number[];
}

/** Options of a {@link DataLoader}. */
export interface DataLoaderOptions {
  /** Batch size. */
  bs: number;
  /** Output image side in pixels. */
  size: number;
  /** Shuffle the order every epoch (seeded). Default false. */
  shuffle?: boolean;
  /** Drop the last incomplete batch (when at least one full batch exists). Default false. */
  dropLast?: boolean;
  /** Random augmentation (train); absent = resize + center crop. */
  augmentation?: Augmentation;
  /** How many batches to decode ahead of the one being used. Default 2. */
  prefetch?: number;
  /** Seed of the shuffles and augmentation draws; absent = random. */
  seed?: number;
  /** Batch normalizer applied after augmentation (usually installed later by `DataBunch.normalize`). */
  normalizer?: BatchNormalizer | null;
}

/** Options of one pass over a {@link DataLoader}. */
export interface IterateOptions {
  /** Apply the normalizer (default true). False gives pixel values 0..255, e.g. to show the images. */
  normalize?: boolean;
  /**
   * Augmentation for this pass: true = the loader's own (default), false = none (center crop), or another one
   * (e.g. the training augmentation on validation items for test-time augmentation).
   */
  augment?: boolean | Augmentation;
  /** Shuffle this pass (default: the loader's setting). */
  shuffle?: boolean;
  /**
   * Seed stream of this pass. Default: the next epoch number (0, 1, 2, ...), so that every epoch gets a new
   * shuffle and new augmentations, reproducible for the loader's seed. Passes for a look at the data
   * (`oneBatch`, `showBatch`) use negative numbers and leave the epoch count alone.
   */
  pass?: number;
}

const SHUFFLE_STREAM = 0x5f1;
const AUGMENT_STREAM = 0xa09;

/** Batches of an {@link ImageDataset} (fast.ai `DataLoader`). Iterate it with `for await`. */
export class DataLoader implements AsyncIterable<Batch> {
  readonly bs: number;
  readonly size: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly augmentation: Augmentation;
  readonly prefetch: number;
  readonly seed: number;
  /** Applied to every batch after augmentation unless a pass asks otherwise. */
  normalizer: BatchNormalizer | null;
  private passes = 0;
  private sidePasses = 0;

  constructor(
    readonly dataset: ImageDataset,
    opts: DataLoaderOptions,
  ) {
    if (!Number.isInteger(opts.bs) || opts.bs < 1)
      throw new RangeError(`DataLoader: bs must be a positive integer, got ${opts.bs}`);
    this.bs = opts.bs;
    this.size = opts.size;
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.augmentation = opts.augmentation ?? {};
    this.prefetch = Math.max(0, opts.prefetch ?? 2);
    this.seed = opts.seed ?? randomSeed();
    this.normalizer = opts.normalizer ?? null;
  }

  /** Item paths, in dataset order (the order of batches when not shuffled). */
  get items(): readonly string[] {
    return this.dataset.items;
  }

  /** Class index of each item (-1 for unlabelled items). */
  get labels(): readonly number[] {
    return this.dataset.labels;
  }

  /** The class names. */
  get classes(): readonly string[] {
    return this.dataset.classes;
  }

  /** Number of items. */
  get n(): number {
    return this.dataset.length;
  }

  /** Number of batches per pass. */
  get length(): number {
    const n = this.dataset.length;
    if (n === 0) return 0;
    return this.dropLast && n >= this.bs ? Math.floor(n / this.bs) : Math.ceil(n / this.bs);
  }

  /** The item indices of each batch of pass number `pass` (seeded: the same pass number gives the same order). */
  batchIndices(pass: number, shuffle = this.shuffle): number[][] {
    const n = this.dataset.length;
    const order = shuffle ? permutation(n, createRng(this.seed, SHUFFLE_STREAM, pass)) : Array.from({ length: n }, (_, i) => i);
    const out: number[][] = [];
    for (let b = 0; b < this.length; b++) out.push(order.slice(b * this.bs, (b + 1) * this.bs));
    return out;
  }

  /** One pass over the data (an epoch). Each pass draws a new shuffle and new augmentations. */
  async *iterate(opts: IterateOptions = {}): AsyncGenerator<Batch, void, undefined> {
    const pass = opts.pass ?? this.passes++;
    const batches = this.batchIndices(pass, opts.shuffle ?? this.shuffle);
    const aug =
      opts.augment === undefined || opts.augment === true ? this.augmentation : opts.augment === false ? {} : opts.augment;
    const rng = createRng(this.seed, AUGMENT_STREAM, pass);
    const normalizer = opts.normalize === false ? null : this.normalizer;
    const pending: (Promise<DecodedImage[]> | undefined)[] = [];
    const start = (b: number): void => {
      if (b >= batches.length || pending[b]) return;
      const p = Promise.all(batches[b]!.map((i) => this.dataset.image(i)));
      p.catch(() => undefined); // awaited below; keep a rejected prefetch from counting as unhandled
      pending[b] = p;
    };
    for (let b = 0; b < batches.length; b++) {
      for (let k = b; k <= b + this.prefetch; k++) start(k);
      const images = await pending[b]!;
      pending[b] = undefined;
      const indices = batches[b]!;
      const x = tf.tidy(() => {
        const t = transformImages(images, { size: this.size, augmentation: aug, rng });
        return normalizer ? normalizer(t) : t;
      });
      const y = tf.tensor1d(
        indices.map((i) => this.dataset.labels[i]!),
        'int32',
      );
      yield { x, y, indices };
    }
  }

  /** Same as `iterate()`: `for await (const { x, y } of dl) { ...; x.dispose(); y.dispose(); }`. */
  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return this.iterate();
  }

  /** A side pass for looking at the data: its own seed stream, epochs unaffected. */
  sidePass(): number {
    return -1 - this.sidePasses++;
  }

  /** The first batch of a new side pass (fast.ai `one_batch`); does not advance the epoch count. */
  async oneBatch(opts: IterateOptions = {}): Promise<Batch> {
    const it = this.iterate({ pass: this.sidePass(), ...opts });
    const r = await it.next();
    await it.return();
    if (r.done) throw new Error('oneBatch: the data loader is empty');
    return r.value;
  }

  /**
   * Item `i` as the model sees it without augmentation (resize + center crop, pixel values 0..255 as RGB bytes),
   * e.g. for image grids of top losses.
   */
  async itemImage(i: number): Promise<DecodedImage> {
    const img = await this.dataset.image(i);
    const t = transformImages([img], { size: this.size });
    try {
      const data = Uint8Array.from(await t.data(), (v) => Math.max(0, Math.min(255, Math.round(v))));
      return { data, width: this.size, height: this.size };
    } finally {
      t.dispose();
    }
  }

  /** Decodes every item into the cache now (in parallel), so that no pass has to wait for decoding. */
  async preload(concurrency = 8): Promise<void> {
    await mapLimit(
      Array.from({ length: this.dataset.length }, (_, i) => i),
      concurrency,
      (i) => this.dataset.image(i),
    );
  }
}

/** DataBunch: the train/valid(/test) data loaders of one data set, with its classes (fast.ai `DataBunch`). */
import { normalizeWith, type BatchNormalizer, type ChannelStats } from '../transforms/normalize.js';
import { DataLoader } from './dataloader.js';
import { ImageDataset } from './dataset.js';
import type { DataWarning, SkippedFile } from './errors.js';

/** Everything a {@link DataBunch} is made of. */
export interface DataBunchParts {
  path: string;
  classes: string[];
  trainDl: DataLoader;
  validDl: DataLoader;
  testDl?: DataLoader;
  size: number;
  skipped?: SkippedFile[];
  warnings?: DataWarning[];
}

/** The data loaders for training, validation and (optionally) test, and the class list. */
export class DataBunch {
  /** The data set's root folder. */
  readonly path: string;
  /** Class names, sorted (or as given by the `classes` option). */
  readonly classes: string[];
  /** Training batches: shuffled, last incomplete batch dropped, augmented. */
  readonly trainDl: DataLoader;
  /** Validation batches: in item order, resize + center crop. */
  readonly validDl: DataLoader;
  /** Unlabelled test batches (labels -1), in item order, resize + center crop. */
  readonly testDl?: DataLoader;
  /** Image side in pixels. */
  readonly size: number;
  /** Files left out (unreadable, no class folder, unknown class), each with its reason. */
  readonly skipped: SkippedFile[];
  /** Every warning raised while building the data bunch. */
  readonly warnings: DataWarning[];
  private normalizerFn: BatchNormalizer | null = null;
  private statsUsed: ChannelStats | null = null;

  constructor(parts: DataBunchParts) {
    this.path = parts.path;
    this.classes = parts.classes;
    this.trainDl = parts.trainDl;
    this.validDl = parts.validDl;
    if (parts.testDl) this.testDl = parts.testDl;
    this.size = parts.size;
    this.skipped = parts.skipped ?? [];
    this.warnings = parts.warnings ?? [];
  }

  /**
   * The seed of the split, the shuffles and the augmentations (`fromFolder`'s `seed`, random when none was given);
   * `cnnLearner` seeds the model's initialization and dropout from it too.
   */
  get seed(): number {
    return this.trainDl.seed;
  }

  /** Number of classes (fast.ai `c`). */
  get c(): number {
    return this.classes.length;
  }

  /** The training dataset (items, labels). */
  get trainDs(): ImageDataset {
    return this.trainDl.dataset;
  }

  /** The validation dataset. */
  get validDs(): ImageDataset {
    return this.validDl.dataset;
  }

  /** The test dataset, when there is one. */
  get testDs(): ImageDataset | undefined {
    return this.testDl?.dataset;
  }

  /** All data loaders (train, valid, test when present). */
  get dls(): DataLoader[] {
    return [this.trainDl, this.validDl, ...(this.testDl ? [this.testDl] : [])];
  }

  /** The installed normalizer, or null. */
  get normalizer(): BatchNormalizer | null {
    return this.normalizerFn;
  }

  /** The channel statistics installed with `normalize(stats)`, or null (none, or a function was installed). */
  get stats(): ChannelStats | null {
    return this.statsUsed;
  }

  /**
   * Installs the model's preprocessing, applied to every batch after augmentation: either a function
   * (NHWC pixel values 0..255 in, model input out; e.g. `x => preprocess(arch, x)`) or channel statistics in
   * [0, 1] units like fast.ai's `normalize(imagenet_stats)`. `null` removes it. Returns this data bunch.
   */
  normalize(fnOrStats: BatchNormalizer | ChannelStats | null): this {
    if (fnOrStats === null) {
      this.normalizerFn = null;
      this.statsUsed = null;
    } else if (typeof fnOrStats === 'function') {
      this.normalizerFn = fnOrStats;
      this.statsUsed = null;
    } else {
      this.normalizerFn = normalizeWith(fnOrStats);
      this.statsUsed = fnOrStats;
    }
    for (const dl of this.dls) dl.normalizer = this.normalizerFn;
    return this;
  }

  /**
   * A loader over other, unlabelled image files (fast.ai v2 `dls.test_dl(items)`): same size, decoding, cache and
   * normalizer as the validation set, labels -1, in the given order.
   */
  makeTestDl(items: readonly string[], opts: { bs?: number } = {}): DataLoader {
    const ref = this.validDl;
    const ds = new ImageDataset(
      [...items],
      items.map(() => -1),
      this.classes,
      ref.dataset.platform,
      ref.dataset.decodeTarget,
      ref.dataset.cache,
    );
    return new DataLoader(ds, { bs: opts.bs ?? ref.bs, size: this.size, prefetch: ref.prefetch, normalizer: this.normalizerFn });
  }

  /** Decodes every image of every loader into the cache now, so that no epoch waits for decoding. */
  async preload(): Promise<void> {
    for (const dl of this.dls) await dl.preload();
  }

  /** A summary like fast.ai's repr. */
  toString(): string {
    const lines = [
      `DataBunch (${this.path}); ${this.c} classes: ${this.classes.join(', ')}; size ${this.size}`,
      `  Train: ${this.trainDl.n} items, ${this.trainDl.length} batches of ${this.trainDl.bs}`,
      `  Valid: ${this.validDl.n} items, ${this.validDl.length} batches of ${this.validDl.bs}`,
    ];
    if (this.testDl) lines.push(`  Test: ${this.testDl.n} items (unlabelled)`);
    if (this.skipped.length) lines.push(`  Skipped: ${this.skipped.length} files (see .skipped)`);
    return lines.join('\n');
  }
}

/**
 * fast.ai's `ClassificationInterpretation`: which items the model got most wrong, and how classes get confused.
 */
import type { DecodedImage } from '../data/image.js';
import type { DatasetType } from '../learner/data.js';
import type { Learner } from '../learner/learner.js';
import { imageGridSvg, type ImageGridOptions } from '../render/image-grid.js';
import { confusionMatrixSvg, type ConfusionMatrixSvgOptions } from './confusion.js';
import { InterpretationError } from './errors.js';

/** Predictions to interpret: probabilities per item and class, true class indices, and the class names. */
export interface InterpretationInput {
  /** Probabilities, row-major `[n, c]` (a flat array of `n*c` values or one array per item). */
  probs: ArrayLike<number> | readonly ArrayLike<number>[];
  /** True class index per item. */
  targets: ArrayLike<number>;
  /** Class names (`c` of them). */
  classes: readonly string[];
  /** The items (file paths) in prediction order, for display. */
  items?: readonly string[];
  /** Per-item losses; default `-log(probs[target])` (cross-entropy). */
  losses?: ArrayLike<number>;
  /** Gives item `i`'s image as the model sees it (resized, center-cropped), for {@link ClassificationInterpretation.plotTopLosses}. */
  loadImage?: (i: number) => Promise<DecodedImage>;
}

/** Options of {@link ClassificationInterpretation.fromLearner}. */
export interface FromLearnerOptions {
  /** Which labelled set to interpret. Default `'valid'`. */
  ds?: Exclude<DatasetType, 'test'>;
  /** Use test-time augmentation for the predictions. Default false. */
  tta?: boolean;
}

/** Options of {@link ClassificationInterpretation.plotTopLosses}. */
export interface PlotTopLossesOptions extends ImageGridOptions {
  /** Show the smallest losses instead. Default false. */
  smallest?: boolean;
}

/** One of {@link ClassificationInterpretation.mostConfused}'s results: `[actual, predicted, count]`. */
export type ConfusedPair = [actual: string, predicted: string, count: number];

/** An item of the top-losses list. */
export interface TopLoss {
  /** Index in the interpreted set. */
  index: number;
  /** Its item (file path), when known. */
  item: string | undefined;
  loss: number;
  actual: string;
  predicted: string;
  /** Probability the model gave the actual class (fast.ai's `plot_top_losses` shows this one). */
  probability: number;
  /** Probability of the predicted class. */
  predictedProbability: number;
}

/**
 * Interpretation of a classifier's predictions (fast.ai v1 `ClassificationInterpretation`). Build it from a
 * Learner with `interpretationFromLearner` / `ClassificationInterpretation.fromLearner`, or from predictions.
 */
export class ClassificationInterpretation {
  /** Number of items. */
  readonly n: number;
  /** Number of classes. */
  readonly c: number;
  /** Probabilities, row-major `[n, c]`. */
  readonly probs: Float32Array;
  readonly targets: Int32Array;
  /** Arg-max class per item. */
  readonly predClass: Int32Array;
  readonly losses: Float32Array;
  readonly classes: readonly string[];
  readonly items: readonly string[] | undefined;
  private readonly loadImage: ((i: number) => Promise<DecodedImage>) | undefined;

  /**
   * Interprets a Learner's predictions on its validation set (fast.ai `ClassificationInterpretation.from_learner`).
   */
  static async fromLearner(learn: Learner, opts: FromLearnerOptions = {}): Promise<ClassificationInterpretation> {
    const ds = opts.ds ?? 'valid';
    const preds = opts.tta ? await learn.tta({ ds, withLoss: true }) : await learn.getPreds({ ds, withLoss: true });
    const dl = (ds === 'train' ? learn.data.trainDl : learn.data.validDl) as
      { itemImage?: (i: number) => Promise<DecodedImage> } | undefined;
    const itemImage = dl?.itemImage;
    return new ClassificationInterpretation({
      probs: preds.probs,
      targets: preds.targets,
      classes: learn.data.classes,
      items: preds.items,
      ...(preds.losses ? { losses: preds.losses } : {}),
      ...(itemImage ? { loadImage: (i: number) => itemImage.call(dl, i) } : {}),
    });
  }

  constructor(input: InterpretationInput) {
    this.loadImage = input.loadImage;
    const { classes } = input;
    const c = classes.length;
    if (c < 1) throw new InterpretationError('ClassificationInterpretation needs at least one class name');
    const n = input.targets.length;
    this.n = n;
    this.c = c;
    this.classes = classes;
    this.probs = new Float32Array(n * c);
    if (input.probs.length === n && n > 0 && typeof (input.probs as ArrayLike<unknown>)[0] === 'object') {
      (input.probs as readonly ArrayLike<number>[]).forEach((row, i) => {
        if (row.length !== c) throw new InterpretationError(`probability row ${i} has ${row.length} values for ${c} classes`);
        for (let j = 0; j < c; j++) this.probs[i * c + j] = row[j]!;
      });
    } else {
      const flat = input.probs as ArrayLike<number>;
      if (flat.length !== n * c) {
        throw new InterpretationError(`got ${flat.length} probabilities for ${n} items x ${c} classes (expected ${n * c})`);
      }
      for (let k = 0; k < n * c; k++) this.probs[k] = flat[k]!;
    }
    this.targets = Int32Array.from(input.targets);
    this.targets.forEach((t, i) => {
      if (!(t >= 0 && t < c)) {
        throw new InterpretationError(
          `item ${i} has target ${t}, not a class index in [0, ${c}): interpret a labelled set (valid), not the test set`,
        );
      }
    });
    if (input.items && input.items.length !== n)
      throw new InterpretationError(`got ${input.items.length} items for ${n} predictions`);
    this.items = input.items;
    this.predClass = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 1; j < c; j++) if (this.probs[i * c + j]! > this.probs[i * c + best]!) best = j;
      this.predClass[i] = best;
    }
    if (input.losses) {
      if (input.losses.length !== n) throw new InterpretationError(`got ${input.losses.length} losses for ${n} predictions`);
      this.losses = Float32Array.from(input.losses);
    } else {
      this.losses = new Float32Array(n);
      for (let i = 0; i < n; i++) this.losses[i] = -Math.log(Math.max(this.probs[i * c + this.targets[i]!]!, 1e-45));
    }
  }

  /** The `k` largest (or smallest) losses and their indices, ties in item order (fast.ai `top_losses`). */
  topLosses(k = this.n, largest = true): { losses: number[]; indices: number[] } {
    const idx = Array.from({ length: this.n }, (_, i) => i);
    idx.sort((a, b) => (largest ? this.losses[b]! - this.losses[a]! : this.losses[a]! - this.losses[b]!) || a - b);
    const indices = idx.slice(0, Math.max(0, Math.min(k, this.n)));
    return { losses: indices.map((i) => this.losses[i]!), indices };
  }

  /** The top `k` losses with what a person wants to read about each. */
  topLossItems(k = 9, largest = true): TopLoss[] {
    return this.topLosses(k, largest).indices.map((i) => ({
      index: i,
      item: this.items?.[i],
      loss: this.losses[i]!,
      actual: this.classes[this.targets[i]!]!,
      predicted: this.classes[this.predClass[i]!]!,
      probability: this.probs[i * this.c + this.targets[i]!]!,
      predictedProbability: this.probs[i * this.c + this.predClass[i]!]!,
    }));
  }

  /** fast.ai's tile title: `prediction/actual / loss / probability of actual`. */
  title(t: TopLoss): string {
    return `${t.predicted}/${t.actual} / ${t.loss.toFixed(2)} / ${t.probability.toFixed(2)}`;
  }

  /** Counts `cm[actual][predicted]`. */
  confusionMatrix(): number[][] {
    const cm = Array.from({ length: this.c }, () => new Array<number>(this.c).fill(0));
    for (let i = 0; i < this.n; i++) cm[this.targets[i]!]![this.predClass[i]!]! += 1;
    return cm;
  }

  /**
   * The confusion matrix as aligned text (rows actual, columns predicted), for terminals and logs:
   * ```
   *             doraemon     walle
   *   doraemon        16         0
   *   walle            1        16
   * ```
   */
  confusionMatrixText(): string {
    const w =
      Math.max(
        ...this.classes.map((c) => c.length),
        ...this.confusionMatrix()
          .flat()
          .map((v) => String(v).length),
      ) + 2;
    const lines = [`  ${''.padEnd(w)}${this.classes.map((c) => c.padStart(w)).join('')}`];
    this.confusionMatrix().forEach((row, i) =>
      lines.push(`  ${this.classes[i]!.padEnd(w)}${row.map((v) => String(v).padStart(w)).join('')}`),
    );
    return lines.join('\n');
  }

  /** Off-diagonal cells with at least `minVal` items, most frequent first (fast.ai `most_confused`). */
  mostConfused(minVal = 1): ConfusedPair[] {
    const cm = this.confusionMatrix();
    const res: ConfusedPair[] = [];
    for (let i = 0; i < this.c; i++) {
      for (let j = 0; j < this.c; j++) {
        if (i !== j && cm[i]![j]! >= minVal) res.push([this.classes[i]!, this.classes[j]!, cm[i]![j]!]);
      }
    }
    return res.sort((a, b) => b[2] - a[2]);
  }

  /** Fraction of items predicted right. */
  accuracy(): number {
    let ok = 0;
    for (let i = 0; i < this.n; i++) if (this.predClass[i] === this.targets[i]) ok += 1;
    return this.n ? ok / this.n : Number.NaN;
  }

  /**
   * fast.ai's `plot_top_losses(k)`: an SVG grid of the `k` items with the largest losses, each titled
   * `prediction/actual` over `loss / probability of the actual class` (red when wrong, green when right). Needs images: from `fromLearner` they come from
   * the data loader; otherwise pass `loadImage` in the constructor input.
   */
  async plotTopLosses(k = 9, opts: PlotTopLossesOptions = {}): Promise<string> {
    const load = this.loadImage;
    if (!load) {
      throw new InterpretationError(
        'plotTopLosses needs the images: build the interpretation with fromLearner(learn) or give loadImage',
      );
    }
    const top = this.topLossItems(k, !opts.smallest);
    const tiles = await Promise.all(
      top.map(async (t) => ({
        image: await load(t.index),
        title: `${t.predicted}/${t.actual}\n${t.loss.toFixed(2)} / ${t.probability.toFixed(2)}`,
        titleColor: t.predicted === t.actual ? '#1a7f37' : '#b42318',
      })),
    );
    const { smallest: _s, ...grid } = opts;
    return imageGridSvg(tiles, { heading: 'prediction/actual/loss/probability', tileSize: 224, ...grid });
  }

  /** The confusion matrix as an SVG document (class names on both axes, counts in the cells). */
  plotConfusionMatrix(opts: ConfusionMatrixSvgOptions = {}): string {
    return confusionMatrixSvg(this.confusionMatrix(), this.classes, opts);
  }
}

/**
 * Predictions: softmax probabilities over a loader in item order (`getPreds`), test-time augmentation (`tta`) and
 * one prepared input (`predictTensor`), with the per-item loss computed in one place.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { Batch, DatasetType, LearnerDataLoader } from './data.js';
import { LearnerError } from './errors.js';
import { argMax, nextMacrotask } from './tensor-utils.js';
import { ttaViews } from './tta.js';

/** Options of `Learner.getPreds`. */
export interface GetPredsOptions {
  /** Which data set. Default `'valid'`. */
  ds?: DatasetType;
  /** fast.ai v1's `is_test=True`: the same as `ds: 'test'`. */
  isTest?: boolean;
  /** Also compute per-item losses (labelled sets only). */
  withLoss?: boolean;
  /** A loader to predict on instead of `ds`. */
  dl?: LearnerDataLoader;
}

/** Options of `Learner.tta`. */
export interface TtaOptions {
  /** Which data set. Default `'valid'`. */
  ds?: DatasetType;
  /** Weight of the plain predictions. Default 0.4. */
  beta?: number;
  /** Zoom of the augmented views. Default 1.35. */
  scale?: number;
  /** Also compute per-item losses of the mixed predictions (labelled sets only). */
  withLoss?: boolean;
}

/**
 * Predictions on a data set, in item order. Destructures like fast.ai's `preds, y = learn.get_preds()`:
 * `const [probs, targets] = await learn.getPreds()`.
 */
export interface Predictions extends Iterable<number[][] | number[]> {
  /** Softmax probabilities, one row per item. */
  probs: number[][];
  /** True class index per item (-1 for unlabelled test items). */
  targets: number[];
  /** Arg-max class index per item. */
  preds: number[];
  /** The items (file paths), in the same order. */
  items: string[];
  /** Cross-entropy per item (with `withLoss`, labelled items; NaN for unlabelled). */
  losses?: number[];
}

/** The result of `Learner.predict`. */
export interface Prediction {
  /** The predicted class name. */
  className: string;
  /** Its index. */
  index: number;
  /** Probability per class. */
  probs: number[];
}

/**
 * {@link Predictions} from probabilities and targets: arg-max predictions, per-item losses with `withLoss`, and
 * iterable as `[probs, targets]` (fast.ai's `preds, y`).
 */
function predictions(probs: number[][], targets: number[], items: string[], withLoss: boolean): Predictions {
  const p: Omit<Predictions, typeof Symbol.iterator> = { probs, targets, preds: probs.map(argMax), items };
  if (withLoss) p.losses = itemLosses(probs, targets);
  return Object.defineProperty(p, Symbol.iterator, {
    enumerable: false,
    value: function* (this: Predictions) {
      yield this.probs;
      yield this.targets;
    },
  }) as Predictions;
}

/** Cross-entropy of each item's probabilities against its target: `-log p[target]`, NaN for unlabelled items. */
export function itemLosses(probs: readonly (readonly number[])[], targets: readonly number[]): number[] {
  return probs.map((row, i) => {
    const t = targets[i]!;
    return t >= 0 && t < row.length ? -Math.log(Math.max(row[t]!, 1e-45)) : Number.NaN;
  });
}

/** Softmax probabilities and targets of `forward` over one un-shuffled, un-augmented pass of `dl`, in item order. */
async function predictPass(
  dl: LearnerDataLoader,
  forward: (x: tf.Tensor4D) => tf.Tensor,
): Promise<{ probs: number[][]; targets: number[] }> {
  const n = dl.items.length;
  const probs: number[][] = new Array<number[]>(n);
  const targets: number[] = new Array<number>(n);
  let next = 0;
  const pass: AsyncIterable<Batch> = dl.iterate ? dl.iterate({ shuffle: false, augment: false }) : dl;
  for await (const { x, y, indices } of pass) {
    try {
      const p = tf.tidy(() => tf.softmax(forward(x) as tf.Tensor2D));
      const [pv, yv] = await Promise.all([p.data(), y.data()]);
      p.dispose();
      const [rows, c] = p.shape as [number, number];
      for (let i = 0; i < rows; i++) {
        const at = indices ? indices[i]! : next + i;
        if (!(at >= 0 && at < n))
          throw new LearnerError(`the loader yielded more predictions than its ${n} items: item order would be wrong`);
        probs[at] = Array.from(pv.subarray(i * c, (i + 1) * c));
        targets[at] = yv[i]!;
      }
      next += rows;
    } finally {
      tf.dispose([x, y]);
    }
    await nextMacrotask();
  }
  if (next !== n || Array.from({ length: n }, (_, i) => i).some((i) => probs[i] === undefined)) {
    throw new LearnerError(`the loader yielded ${next} predictions for ${n} items: item order would be wrong`);
  }
  return { probs, targets };
}

/** `model`'s predictions (eval mode) on every item of `dl`, in item order (fast.ai `get_preds`). */
export async function predictLoader(model: Module, dl: LearnerDataLoader, withLoss = false): Promise<Predictions> {
  model.eval();
  const { probs, targets } = await predictPass(dl, (x) => model.forward(x));
  return predictions(probs, targets, [...dl.items], withLoss);
}

/**
 * Test-time augmentation (fast.ai v1 `TTA`): averages the predictions on 8 zoomed (x`scale`, one per corner) and
 * flipped views, then mixes them with the plain predictions: `beta * plain + (1 - beta) * augmented`.
 */
export async function predictTta(model: Module, dl: LearnerDataLoader, opts: Omit<TtaOptions, 'ds'> = {}): Promise<Predictions> {
  const beta = opts.beta ?? 0.4;
  model.eval();
  const plain = await predictPass(dl, (x) => model.forward(x));
  const views = ttaViews(opts.scale ?? 1.35);
  const sum = plain.probs.map((r) => r.map(() => 0));
  for (const view of views) {
    const p = await predictPass(dl, (x) => model.forward(view(x)));
    p.probs.forEach((r, i) => r.forEach((v, j) => (sum[i]![j]! += v / views.length)));
  }
  const probs = plain.probs.map((r, i) => r.map((v, j) => beta * v + (1 - beta) * sum[i]![j]!));
  return predictions(probs, plain.targets, [...dl.items], opts.withLoss ?? false);
}

/**
 * Predicts one prepared input `[1, H, W, 3]` or `[H, W, 3]` (already resized and normalized) with `model` in eval
 * mode; `classes` names the result.
 */
export async function predictTensor(model: Module, classes: readonly string[], x: tf.Tensor): Promise<Prediction> {
  model.eval();
  const p = tf.tidy(() => {
    const xb = (x.rank === 3 ? tf.expandDims(x, 0) : x) as tf.Tensor4D;
    return tf.softmax(model.forward(xb) as tf.Tensor2D);
  });
  const probs = Array.from(await p.data());
  p.dispose();
  const index = argMax(probs);
  return { className: classes[index]!, index, probs };
}

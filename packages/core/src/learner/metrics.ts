/**
 * Metrics shown in the epoch table (fast.ai `accuracy`, `error_rate`), averaged over the validation set.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from './errors.js';

/**
 * A metric: model outputs `[N, C]` and int32 targets `[N]` -> a scalar (the batch mean). The Learner averages it
 * over the validation set weighted by batch size (fast.ai `AverageMetric`). `metricName` is the column name.
 */
export interface Metric {
  (preds: tf.Tensor, targets: tf.Tensor): tf.Scalar;
  /** Column name in the epoch table, e.g. `accuracy`, `error_rate`. */
  readonly metricName: string;
}

/** Makes a {@link Metric} from a batch function and its column name. */
export function defineMetric(name: string, fn: (preds: tf.Tensor, targets: tf.Tensor) => tf.Scalar): Metric {
  if (!/^\S+$/.test(name)) throw new LossInputError(`a metric name must be one word (it is a table column), got "${name}"`);
  return Object.assign((p: tf.Tensor, t: tf.Tensor) => fn(p, t), { metricName: name });
}

/** The column name of a metric: its `metricName`, else the function's name in snake_case. */
export function metricName(m: Metric | ((p: tf.Tensor, t: tf.Tensor) => tf.Scalar)): string {
  const named = (m as Partial<Metric>).metricName;
  if (named) return named;
  const fn = m.name || 'metric';
  return fn.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function checkPreds(preds: tf.Tensor, targets: tf.Tensor, what: string): number {
  if (preds.rank < 2) throw new LossInputError(`${what}: predictions must be [N, C], got shape [${preds.shape}]`);
  const c = preds.shape[preds.rank - 1]!;
  if (targets.size * c !== preds.size) {
    throw new LossInputError(`${what}: ${targets.size} targets for predictions of shape [${preds.shape}]`);
  }
  return c;
}

/** Fraction of items whose arg-max prediction equals the target (fast.ai `accuracy`). */
export const accuracy: Metric = defineMetric('accuracy', (preds, targets) =>
  tf.tidy(() => {
    const c = checkPreds(preds, targets, 'accuracy');
    const p = tf.argMax(tf.reshape(preds, [-1, c]), 1);
    return tf.mean(tf.cast(tf.equal(p, tf.cast(tf.reshape(targets, [-1]), 'int32')), 'float32')) as tf.Scalar;
  }),
);

/** `1 - accuracy` (fast.ai `error_rate`). */
export const errorRate: Metric = defineMetric('error_rate', (preds, targets) =>
  tf.tidy(() => tf.sub(1, accuracy(preds, targets)) as tf.Scalar),
);

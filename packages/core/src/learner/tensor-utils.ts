/** Small tensor helpers of the learner area. */
import * as tf from '@tensorflow/tfjs-core';

/** Index of the largest value. */
export function argMax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** True when every gradient is finite (one reduction, one read). */
export async function allFinite(grads: Map<string, tf.Tensor>): Promise<boolean> {
  if (grads.size === 0) return true;
  const bad = tf.tidy(() => tf.addN([...grads.values()].map((g) => tf.sum(tf.cast(tf.logicalNot(tf.isFinite(g)), 'float32')))));
  const n = (await bad.data())[0]!;
  bad.dispose();
  return n === 0;
}

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

/**
 * Yields to the event loop's task queue. On the synchronous backends (wasm, cpu) every `await` of a batch can
 * resolve at once, so a whole epoch would run as microtasks: no Ctrl-C (signals), timers, worker messages or
 * browser rendering until it ends. One task per batch (about a millisecond) keeps all of them live.
 */
export function nextMacrotask(): Promise<void> {
  // setTimeout exists in every JavaScript host core runs in; core's lib has neither DOM nor Node types.
  const host = globalThis as unknown as { setTimeout(callback: () => void, ms: number): unknown };
  return new Promise((resolve) => host.setTimeout(resolve, 0));
}

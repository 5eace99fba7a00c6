/**
 * Test helpers for the model zoo (used by *.test.ts only; not exported from the package).
 * Tests run on the wasm backend (XNNPACK): much faster than the pure-JS cpu backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

/** Switches tfjs to the wasm backend, failing loudly when it cannot start. */
export async function useWasmBackend(): Promise<void> {
  if (tf.getBackend() === 'wasm') return;
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error('the tfjs wasm backend did not start (are the .wasm files of @tensorflow/tfjs-backend-wasm present?)');
  await tf.ready();
}

/** Reads a little-endian float32 file's bytes as a Float32Array. */
export function float32FromBytes(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Largest absolute difference between two tensors' values. */
export async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = (await d.data())[0]!;
  d.dispose();
  return v;
}

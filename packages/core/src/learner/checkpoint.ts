/**
 * The checkpoint file format: a safetensors file (written and read by `weights/safetensors`) with fastts's own
 * metadata as a JSON string under `__metadata__.fastts`. Any safetensors reader can open the tensors.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { StateDict } from '../nn/module.js';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../weights/safetensors.js';
import { CheckpointError } from './errors.js';

/** Encodes named tensors (float32 or int32) and a JSON-able metadata object into one safetensors file. */
export async function encodeCheckpoint(tensors: Record<string, tf.Tensor> | StateDict, meta: unknown): Promise<Uint8Array> {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  for (const [name, t] of entries) {
    if (t.dtype !== 'float32' && t.dtype !== 'int32') {
      throw new CheckpointError(`cannot store tensor "${name}" of dtype ${t.dtype}: only float32 and int32 are supported`);
    }
  }
  return writeSafetensors(new Map(entries), { fastts: JSON.stringify(meta) });
}

/**
 * Decodes a file written by {@link encodeCheckpoint}: its tensors (the caller disposes them) and its metadata.
 * `what` names the file in errors.
 */
export function decodeCheckpoint(bytes: Uint8Array, what: string): { tensors: StateDict; meta: unknown } {
  let metaText: string | undefined;
  try {
    metaText = readSafetensorsHeader(bytes).metadata.fastts;
  } catch (e) {
    throw new CheckpointError(`${what} is not a fastts checkpoint: ${(e as Error).message}`);
  }
  if (metaText === undefined)
    throw new CheckpointError(`${what} is a safetensors file without fastts metadata: it was not saved by fastts`);
  let meta: unknown;
  try {
    meta = JSON.parse(metaText);
  } catch (e) {
    throw new CheckpointError(`${what} has corrupt fastts metadata (${(e as Error).message})`);
  }
  return { tensors: readSafetensors(bytes), meta };
}

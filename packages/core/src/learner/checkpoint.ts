/**
 * The checkpoint file format: safetensors (8-byte little-endian header length, JSON header, raw little-endian
 * tensor data), with fastts's own metadata as a JSON string under `__metadata__.fastts`. Any safetensors reader
 * can open the tensors.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from './errors.js';
import { fromUtf8, utf8 } from './storage.js';

const DTYPES: Record<string, { st: string; bytes: number }> = {
  float32: { st: 'F32', bytes: 4 },
  int32: { st: 'I32', bytes: 4 },
};

/** Tensor values read back from a checkpoint (plain typed arrays; turn into tensors as needed). */
export interface StoredTensor {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Encodes named tensors and a JSON-able metadata object into one safetensors file. */
export async function encodeCheckpoint(tensors: Record<string, tf.Tensor>, meta: unknown): Promise<Uint8Array> {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = { __metadata__: { fastts: JSON.stringify(meta) } };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    const d = DTYPES[t.dtype];
    if (!d) throw new CheckpointError(`cannot store tensor "${name}" of dtype ${t.dtype}: only float32 and int32 are supported`);
    const values = await t.data();
    const bytes = new Uint8Array(values.buffer, values.byteOffset, t.size * d.bytes).slice();
    header[name] = { dtype: d.st, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let headerBytes = utf8(JSON.stringify(header));
  const pad = (8 - (headerBytes.length % 8)) % 8; // align the data on 8 bytes, padding with spaces as the spec allows
  if (pad) headerBytes = utf8(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

/** Decodes a file written by {@link encodeCheckpoint}: its tensors and its metadata. `what` names it in errors. */
export function decodeCheckpoint(bytes: Uint8Array, what: string): { tensors: Record<string, StoredTensor>; meta: unknown } {
  if (bytes.length < 8) throw new CheckpointError(`${what} is not a fastts checkpoint: only ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n <= 0 || 8 + n > bytes.length) throw new CheckpointError(`${what} is not a fastts checkpoint (bad safetensors header length ${n})`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & {
    __metadata__?: Record<string, string>;
  };
  try {
    header = JSON.parse(fromUtf8(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new CheckpointError(`${what} is not a fastts checkpoint: its header is not JSON (${(e as Error).message})`);
  }
  const metaText = header.__metadata__?.fastts;
  if (metaText === undefined) throw new CheckpointError(`${what} is a safetensors file without fastts metadata: it was not saved by fastts`);
  const base = 8 + n;
  const tensors: Record<string, StoredTensor> = {};
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const info = e as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const [a, b] = info.data_offsets;
    if (base + b > bytes.length) throw new CheckpointError(`${what} is truncated: tensor "${name}" ends past the end of the file`);
    const raw = bytes.slice(base + a, base + b);
    const size = info.shape.reduce((p, q) => p * q, 1);
    if (info.dtype === 'F32') tensors[name] = { dtype: 'float32', shape: info.shape, data: new Float32Array(raw.buffer, 0, size) };
    else if (info.dtype === 'I32') tensors[name] = { dtype: 'int32', shape: info.shape, data: new Int32Array(raw.buffer, 0, size) };
    else throw new CheckpointError(`${what}: tensor "${name}" has dtype ${info.dtype}, which fastts does not store`);
  }
  return { tensors, meta: JSON.parse(metaText) };
}

/** A tensor from a {@link StoredTensor}. */
export function storedToTensor(t: StoredTensor): tf.Tensor {
  return tf.tensor(t.data, t.shape, t.dtype);
}

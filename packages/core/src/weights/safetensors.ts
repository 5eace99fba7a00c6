/**
 * safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header length, a JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {...} }`, then the raw little-endian data.
 * Everything the header claims is checked against the buffer before any tensor is allocated.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StateDict, StateDictLike } from '../nn/module.js';
import {
  assertLittleEndian,
  bfloat16ToFloat32,
  boolCopy,
  float16ToFloat32,
  float32Copy,
  float64ToFloat32,
  int16ToInt32,
  int32Copy,
  int64ToInt32,
  int8ToInt32,
  uint8ToInt32,
} from './dtypes.js';
import { WeightsFormatError } from './errors.js';
import { decodeUtf8, encodeUtf8 } from './text.js';

const FORMAT = 'safetensors';

/** Largest header accepted (the format's reference implementation uses 100 MB). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

type Decoder = (bytes: Uint8Array, count: number) => Float32Array | Int32Array | Uint8Array;

const DTYPES: Record<string, { bytes: number; tf: tf.DataType; decode: Decoder }> = {
  F32: { bytes: 4, tf: 'float32', decode: float32Copy },
  F16: { bytes: 2, tf: 'float32', decode: float16ToFloat32 },
  BF16: { bytes: 2, tf: 'float32', decode: bfloat16ToFloat32 },
  F64: { bytes: 8, tf: 'float32', decode: float64ToFloat32 },
  I64: { bytes: 8, tf: 'int32', decode: int64ToInt32 },
  I32: { bytes: 4, tf: 'int32', decode: int32Copy },
  I16: { bytes: 2, tf: 'int32', decode: int16ToInt32 },
  I8: { bytes: 1, tf: 'int32', decode: int8ToInt32 },
  U8: { bytes: 1, tf: 'int32', decode: uint8ToInt32 },
  BOOL: { bytes: 1, tf: 'bool', decode: boolCopy },
};

/** One tensor's entry in a safetensors header, validated. */
export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte range in the file (absolute, past the header). */
  begin: number;
  end: number;
}

/** A validated safetensors header. */
export interface SafetensorsHeader {
  /** The free-form `__metadata__` strings, if any. */
  metadata: Record<string, string>;
  tensors: SafetensorsEntry[];
}

function fail(message: string): never {
  throw new WeightsFormatError(FORMAT, message);
}

/**
 * Parses and validates the header of a safetensors file: header length, JSON, dtypes, shapes, and that every
 * tensor's byte range lies inside the buffer and matches its shape. Allocates nothing proportional to the
 * claimed sizes.
 */
export function readSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  if (bytes.length < 8) fail(`file too short (${bytes.length} bytes; a safetensors file starts with an 8-byte header length)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(bytes.length - 8)) {
    fail(
      `header claims ${headerLen} bytes but only ${bytes.length - 8} follow the length field: ` +
        'the file is truncated or not a safetensors file',
    );
  }
  if (headerLen > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    fail(`header of ${headerLen} bytes exceeds the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit`);
  }
  const n = Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(decodeUtf8(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message}): the file is corrupt or not a safetensors file`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw === 'object' && raw !== null) {
        for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') metadata[k] = v;
      }
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(`entry '${name}' is not an object`);
    const dtype = e.dtype;
    if (typeof dtype !== 'string' || !(dtype in DTYPES)) {
      fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(DTYPES).join(', ')})`);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offsets = e.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1]
    ) {
      fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [b, end] = offsets as [number, number];
    if (end > dataLen) {
      fail(
        `tensor '${name}' claims bytes ${b}..${end} of the data section, which holds only ${dataLen} bytes: ` +
          'the file is truncated or corrupt',
      );
    }
    const numel = (shape as number[]).reduce((a, d) => a * d, 1);
    const expected = numel * DTYPES[dtype]!.bytes;
    if (end - b !== expected) {
      fail(
        `tensor '${name}' (${dtype} [${(shape as number[]).join(',')}]) needs ${expected} bytes but its data_offsets span ${end - b}`,
      );
    }
    tensors.push({ name, dtype, shape: shape as number[], begin: dataStart + b, end: dataStart + end });
  }
  return { metadata, tensors };
}

/**
 * Reads a safetensors file into a name -> tensor map (caller owns the tensors). F16/BF16/F64 become float32,
 * I64 and smaller integers become int32 (an int64 outside the int32 range is an error), BOOL becomes bool.
 * Truncated files, absurd header sizes and inconsistent entries throw a {@link WeightsFormatError} before any
 * tensor is allocated.
 */
export function readSafetensors(bytes: Uint8Array): StateDict {
  assertLittleEndian(FORMAT);
  const header = readSafetensorsHeader(bytes);
  const out: StateDict = new Map();
  try {
    for (const t of header.tensors) {
      const spec = DTYPES[t.dtype]!;
      const numel = t.shape.reduce((a, d) => a * d, 1);
      let values: Float32Array | Int32Array | Uint8Array;
      try {
        values = spec.decode(bytes.subarray(t.begin, t.end), numel);
      } catch (e) {
        fail(`tensor '${t.name}': ${(e as Error).message}`);
      }
      out.set(t.name, tf.tensor(values, t.shape, spec.tf));
    }
  } catch (e) {
    tf.dispose([...out.values()]);
    throw e;
  }
  return out;
}

/**
 * Serializes tensors to safetensors bytes (float32 as F32, int32 as I32, bool as BOOL), with optional string
 * metadata. Async because tensor data may live on a GPU.
 */
export async function writeSafetensors(tensors: StateDictLike, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  assertLittleEndian(FORMAT);
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, tf.Tensor>);
  const datas: Uint8Array[] = [];
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const dtype = t.dtype === 'float32' ? 'F32' : t.dtype === 'int32' ? 'I32' : t.dtype === 'bool' ? 'BOOL' : null;
    if (dtype === null) throw new WeightsFormatError(FORMAT, `cannot write tensor '${name}' of dtype ${t.dtype}`);
    const values = await t.data();
    const raw =
      dtype === 'BOOL'
        ? Uint8Array.from(values as Uint8Array)
        : new Uint8Array(values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + raw.byteLength] };
    datas.push(raw);
    offset += raw.byteLength;
  }
  let json = encodeUtf8(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8; // keep the data section 8-byte aligned, as the reference writer does
  if (pad > 0) json = encodeUtf8(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let p = 8 + json.length;
  for (const d of datas) {
    out.set(d, p);
    p += d.byteLength;
  }
  return out;
}

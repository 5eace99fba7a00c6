/**
 * `torch.save` checkpoints (the zip format of PyTorch >= 1.6): `<name>/data.pkl` (a pickle of the state dict
 * whose tensors reference storages by persistent id) and `<name>/data/<key>` (raw little-endian storages).
 * Read with a restricted unpickler: only the globals a state dict needs are accepted.
 */
import * as tf from '@tensorflow/tfjs-core';
import { unzipSync, type UnzipFileInfo } from 'fflate';
import type { StateDict } from '../nn/module.js';
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
import { UnsafePickleError, WeightsFormatError } from './errors.js';
import { decodeUtf8 } from './text.js';
import {
  PyCallable,
  PyDict,
  PyList,
  pyTypeName,
  unpickle,
  unpickleAt,
  type PyObject,
  type PyValue,
  type UnpicklePolicy,
} from './pickle.js';

const FORMAT = 'torch checkpoint';

type Decoded = Float32Array | Int32Array | Uint8Array;

interface StorageKind {
  bytes: number;
  dtype: tf.DataType;
  decode: (b: Uint8Array, n: number) => Decoded;
}

/** Storage classes a state dict may reference, with how to decode them. */
const STORAGE_KINDS: Record<string, StorageKind> = {
  FloatStorage: { bytes: 4, dtype: 'float32', decode: float32Copy },
  HalfStorage: { bytes: 2, dtype: 'float32', decode: float16ToFloat32 },
  BFloat16Storage: { bytes: 2, dtype: 'float32', decode: bfloat16ToFloat32 },
  DoubleStorage: { bytes: 8, dtype: 'float32', decode: float64ToFloat32 },
  LongStorage: { bytes: 8, dtype: 'int32', decode: int64ToInt32 },
  IntStorage: { bytes: 4, dtype: 'int32', decode: int32Copy },
  ShortStorage: { bytes: 2, dtype: 'int32', decode: int16ToInt32 },
  CharStorage: { bytes: 1, dtype: 'int32', decode: int8ToInt32 },
  ByteStorage: { bytes: 1, dtype: 'int32', decode: uint8ToInt32 },
  BoolStorage: { bytes: 1, dtype: 'bool', decode: boolCopy },
};

/** The callables (by qualified name) a state-dict pickle may reference. Everything else is refused. */
export const ALLOWED_TORCH_GLOBALS: readonly string[] = [
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  ...Object.keys(STORAGE_KINDS).map((k) => `torch.${k}`),
];

class StorageType implements PyObject {
  readonly pyType = 'torch storage type';
  constructor(
    readonly name: string,
    readonly kind: StorageKind,
  ) {}
}

class StorageRef implements PyObject {
  readonly pyType = 'torch storage';
  decoded: Decoded | null = null;
  constructor(
    readonly key: string,
    readonly type: StorageType,
    readonly numel: number,
    /** The raw storage (filled after the pickle for legacy files). */
    public bytes: Uint8Array,
  ) {}
}

class TensorRef implements PyObject {
  readonly pyType = 'torch.Tensor';
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

function fail(message: string, cause?: unknown): never {
  throw new WeightsFormatError(FORMAT, message, cause === undefined ? undefined : { cause });
}

function intTuple(v: PyValue, what: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    fail(`${what} must be a tuple of non-negative integers, got ${pyTypeName(v)}`);
  }
  return v as number[];
}

/** Options of {@link readTorchCheckpoint}. */
export interface ReadTorchCheckpointOptions {
  /**
   * Largest tensor data the checkpoint may make the reader materialize, as a multiple of the storage bytes it
   * contains (views of one storage are copied per tensor). Default 4.
   */
  maxExpansion?: number;
}

/** The magic number legacy (non-zip) `torch.save` files start with. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/**
 * Reads a `torch.save` checkpoint holding a state dict (`OrderedDict[str, Tensor]`, or a dict with such a
 * state dict under `state_dict` / `model` / `model_state_dict`) into a name -> tensor map (caller owns the
 * tensors). Both the zip format (PyTorch >= 1.6) and the legacy format (older files, e.g. fast.ai v1's
 * torchvision downloads) are read. Layouts are PyTorch's (OIHW convs); float16/bfloat16/float64 become float32,
 * int64 becomes int32.
 *
 * Safety: the pickle runs in a restricted VM ({@link ALLOWED_TORCH_GLOBALS}); any other global (`os.system`,
 * `builtins.eval`, …) or opcode raises {@link UnsafePickleError} before anything happens. Sizes and offsets are
 * validated against the actual bytes before allocation.
 */
export function readTorchCheckpoint(bytes: Uint8Array, options: ReadTorchCheckpointOptions = {}): StateDict {
  assertLittleEndian(FORMAT);
  let parsed: { root: PyValue; storages: Map<string, StorageRef> };
  if (bytes.length >= 4 && bytes[0] === 0x80 && bytes[1] === 0x02 && bytes[2] === 0x8a) parsed = readLegacy(bytes);
  else if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b) parsed = readZip(bytes);
  else fail(`not a torch.save file (neither a zip archive starting with 'PK' nor the legacy format); got ${bytes.length} bytes`);
  return materializeStateDict(parsed.root, parsed.storages, options.maxExpansion ?? 4);
}

const STORAGE_TYPES = new Map(Object.entries(STORAGE_KINDS).map(([k, v]) => [k, new StorageType(k, v)]));

/**
 * The restricted unpickling policy of a state dict: the allowed callables build inert tensor/storage
 * references; `loadStorage` resolves a storage by key (validated against the file's bytes).
 */
function stateDictPolicy(loadStorage: (type: StorageType, key: string, numel: number) => StorageRef): UnpicklePolicy {
  const makeDict = new PyCallable('collections.OrderedDict', (args) => {
    if (args.length !== 0) fail('OrderedDict(...) with arguments is not supported');
    return new PyDict();
  });
  const rebuildTensor = (name: string): PyCallable =>
    new PyCallable(`torch._utils.${name}`, (args) => {
      const [storage, offset, size, stride] = args;
      if (!(storage instanceof StorageRef)) fail(`${name}: first argument is a ${pyTypeName(storage ?? null)}, not a storage`);
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) fail(`${name}: invalid storage offset`);
      const shape = intTuple(size ?? null, `${name} size`);
      const strides = intTuple(stride ?? null, `${name} stride`);
      if (shape.length !== strides.length) fail(`${name}: size and stride have different lengths`);
      const numel = shape.reduce((a, d) => a * d, 1);
      if (numel > 0) {
        const last = shape.reduce((acc, d, i) => acc + (d - 1) * strides[i]!, offset as number);
        if (last >= storage.numel) {
          fail(
            `a tensor of shape [${shape.join(',')}] reads element ${last} of storage '${storage.key}', which has ${storage.numel}`,
          );
        }
      }
      if (numel > storage.numel) fail(`a tensor of shape [${shape.join(',')}] is larger than its storage '${storage.key}'`);
      return new TensorRef(storage, offset as number, shape, strides);
    });
  const rebuildParameter = (name: string): PyCallable =>
    new PyCallable(`torch._utils.${name}`, (args) => {
      if (!(args[0] instanceof TensorRef)) fail(`${name}: expected a tensor`);
      return args[0];
    });
  const callables = new Map<string, PyCallable>([
    ['collections.OrderedDict', makeDict],
    ['torch._utils._rebuild_tensor', rebuildTensor('_rebuild_tensor')],
    ['torch._utils._rebuild_tensor_v2', rebuildTensor('_rebuild_tensor_v2')],
    ['torch._utils._rebuild_parameter', rebuildParameter('_rebuild_parameter')],
    ['torch._utils._rebuild_parameter_with_state', rebuildParameter('_rebuild_parameter_with_state')],
  ]);
  return {
    resolveGlobal(module, name) {
      const q = `${module}.${name}`;
      const c = callables.get(q);
      if (c) return c;
      if (module === 'torch' && STORAGE_TYPES.has(name)) {
        return new PyCallable(q, () => fail(`${q}(...) cannot be called in a state dict`));
      }
      throw new UnsafePickleError(
        `the pickle references the global '${q}', which is not needed to load a state dict ` +
          `(allowed: ${ALLOWED_TORCH_GLOBALS.join(', ')}). If the file is a whole pickled model or a training ` +
          'checkpoint with custom objects, re-save just the weights with torch.save(model.state_dict(), path)',
      );
    },
    persistentLoad(pid) {
      // zip: ('storage', type, key, location, numel); legacy: the same plus view metadata (None for state dicts)
      if (!Array.isArray(pid) || pid.length < 5 || pid[0] !== 'storage') {
        fail(`unsupported persistent id ${pyTypeName(pid)} (expected ('storage', type, key, location, numel))`);
      }
      const [, type, key, , numel, view] = pid as PyValue[];
      const typeName = type instanceof PyCallable ? type.qualifiedName.replace(/^torch\./, '') : '';
      const st = STORAGE_TYPES.get(typeName);
      if (!st) fail(`unsupported storage type ${pyTypeName(type ?? null)}`);
      if (typeof key !== 'string') fail('storage key is not a string');
      if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) fail(`storage '${key}' has an invalid size`);
      if (view !== undefined && view !== null) fail(`storage '${key}' is a legacy storage view, which is not supported`);
      return loadStorage(st!, key as string, numel as number);
    },
  };
}

/** The zip format: `<name>/data.pkl` plus one `<name>/data/<key>` entry per storage. */
function readZip(bytes: Uint8Array): { root: PyValue; storages: Map<string, StorageRef> } {
  const files = unzipEntries(bytes);
  const pklNames = Object.keys(files).filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (pklNames.length !== 1) {
    fail(
      `expected exactly one data.pkl in the archive, found ${pklNames.length} (entries: ${Object.keys(files).slice(0, 8).join(', ')})`,
    );
  }
  const pklName = pklNames[0]!;
  const prefix = pklName.slice(0, pklName.length - 'data.pkl'.length);
  const byteorder = files[`${prefix}byteorder`];
  if (byteorder && decodeUtf8(byteorder).trim() !== 'little') {
    fail('the checkpoint was saved on a big-endian machine, which is not supported');
  }
  const storages = new Map<string, StorageRef>();
  const root = unpickle(
    files[pklName]!,
    stateDictPolicy((type, key, numel) => {
      const cached = storages.get(key);
      if (cached) return cached;
      const entry = files[`${prefix}data/${key}`];
      if (!entry) fail(`storage '${key}' is referenced but ${prefix}data/${key} is missing from the archive (truncated?)`);
      const need = numel * type.kind.bytes;
      if (entry!.length < need) {
        fail(
          `storage '${key}' needs ${need} bytes (${numel} × ${type.name}) but its archive entry has ${entry!.length}: truncated file`,
        );
      }
      const ref = new StorageRef(key, type, numel, entry!);
      storages.set(key, ref);
      return ref;
    }),
  );
  return { root, storages };
}

/**
 * The legacy format: pickles of the magic number, the protocol version, system info, the state dict and the
 * list of storage keys, then each storage as an int64 element count followed by its raw data.
 */
function readLegacy(bytes: Uint8Array): { root: PyValue; storages: Map<string, StorageRef> } {
  const plain: UnpicklePolicy = {
    resolveGlobal: (module, name) => {
      throw new UnsafePickleError(`the pickle references the global '${module}.${name}' outside the state dict`);
    },
    persistentLoad: () => fail('unexpected persistent id outside the state dict'),
  };
  const magic = unpickleAt(bytes, 0, plain);
  if (magic.value !== LEGACY_MAGIC) fail('not a torch.save file (wrong magic number)');
  const version = unpickleAt(bytes, magic.end, plain);
  if (version.value !== 1001) fail(`unsupported legacy protocol version ${String(version.value)}`);
  const sysInfo = unpickleAt(bytes, version.end, plain);
  if (sysInfo.value instanceof PyDict && sysInfo.value.map.get('little_endian') === false) {
    fail('the checkpoint was saved on a big-endian machine, which is not supported');
  }
  const storages = new Map<string, StorageRef>();
  const main = unpickleAt(
    bytes,
    sysInfo.end,
    stateDictPolicy((type, key, numel) => {
      const cached = storages.get(key);
      if (cached) return cached;
      const ref = new StorageRef(key, type, numel, new Uint8Array(0));
      storages.set(key, ref);
      return ref;
    }),
  );
  const keys = unpickleAt(bytes, main.end, plain);
  if (!(keys.value instanceof PyList) || !keys.value.items.every((k) => typeof k === 'string')) {
    fail('the storage key list is missing or malformed (truncated file?)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of (keys.value as PyList).items as string[]) {
    const ref = storages.get(key);
    if (!ref) fail(`storage '${key}' is listed but no tensor uses it`);
    if (pos + 8 > bytes.length) fail(`storage '${key}' is missing: the file is truncated`);
    const n = view.getBigInt64(pos, true);
    if (n !== BigInt(ref!.numel)) fail(`storage '${key}' holds ${n} elements but the state dict expects ${ref!.numel}`);
    const need = ref!.numel * ref!.type.kind.bytes;
    if (pos + 8 + need > bytes.length) {
      fail(`storage '${key}' needs ${need} bytes but only ${bytes.length - pos - 8} remain: the file is truncated`);
    }
    ref!.bytes = bytes.subarray(pos + 8, pos + 8 + need);
    pos += 8 + need;
  }
  for (const [key, ref] of storages) {
    if (ref.bytes.length === 0 && ref.numel > 0) fail(`storage '${key}' is used but not stored in the file`);
  }
  return { root: main.value, storages };
}

/** Validates the state dict found in `root` and turns its tensor references into tensors. */
function materializeStateDict(root: PyValue, storages: Map<string, StorageRef>, maxExpansion: number): StateDict {
  const dict = findStateDict(root);
  const totalStorageBytes = [...storages.values()].reduce((a, s) => a + s.numel * s.type.kind.bytes, 0);
  const entries: Array<[string, TensorRef]> = [];
  let materialized = 0;
  for (const [k, v] of dict.map) {
    if (typeof k !== 'string') fail(`state dict key ${String(k)} is not a string`);
    if (!(v instanceof TensorRef)) fail(`state dict entry '${k}' is a ${pyTypeName(v)}, not a tensor`);
    materialized += v.shape.reduce((a, d) => a * d, 1) * v.storage.type.kind.bytes;
    entries.push([k as string, v]);
  }
  if (materialized > maxExpansion * totalStorageBytes + 1024) {
    fail(
      `the tensors would need ${materialized} bytes from ${totalStorageBytes} bytes of storage (more than ${maxExpansion}×): refusing`,
    );
  }
  const out: StateDict = new Map();
  try {
    for (const [name, t] of entries) out.set(name, materialize(name, t));
  } catch (e) {
    tf.dispose([...out.values()]);
    throw e;
  }
  return out;
}

function unzipEntries(bytes: Uint8Array): Record<string, Uint8Array> {
  const check = (f: UnzipFileInfo): boolean => {
    if (f.compression === 0 && f.originalSize !== f.size) {
      fail(`zip entry '${f.name}' claims ${f.originalSize} bytes stored in ${f.size}`);
    }
    if (f.originalSize > bytes.length * 1100 + 65536 || f.originalSize > 2 ** 32) {
      fail(`zip entry '${f.name}' claims ${f.originalSize} uncompressed bytes, more than its data can hold`);
    }
    return true;
  };
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, { filter: check });
  } catch (e) {
    if (e instanceof WeightsFormatError) throw e;
    fail(`the zip archive is truncated or corrupt (${(e as Error).message}); download the file again`, e);
  }
  return files;
}

function findStateDict(root: PyValue): PyDict {
  if (!(root instanceof PyDict)) fail(`the checkpoint holds a ${pyTypeName(root)}, not a state dict`);
  const isTensorDict = (d: PyDict): boolean => d.map.size > 0 && [...d.map.values()].every((v) => v instanceof TensorRef);
  if (isTensorDict(root)) return root;
  for (const key of ['state_dict', 'model_state_dict', 'model', 'net']) {
    const inner = root.map.get(key);
    if (inner instanceof PyDict && isTensorDict(inner)) return inner;
  }
  if (root.map.size === 0) fail('the checkpoint holds an empty dict');
  const keys = [...root.map.keys()].slice(0, 10).map(String);
  return fail(
    `the checkpoint is a dict (keys: ${keys.join(', ')}) that is not a state dict of tensors, and none of ` +
      'state_dict / model_state_dict / model / net holds one',
  );
}

function materialize(name: string, t: TensorRef): tf.Tensor {
  const s = t.storage;
  const kind = s.type.kind;
  if (s.decoded === null) {
    try {
      s.decoded = kind.decode(s.bytes, s.numel);
    } catch (e) {
      fail(`tensor '${name}': ${(e as Error).message}`);
    }
  }
  const src = s.decoded!;
  const numel = t.shape.reduce((a, d) => a * d, 1);
  const contiguous = t.shape.every((_, i) => t.shape[i] === 1 || t.stride[i] === t.shape.slice(i + 1).reduce((a, d) => a * d, 1));
  let values: Decoded;
  if (contiguous) {
    values = src.slice(t.offset, t.offset + numel);
  } else {
    values = new (src.constructor as { new (n: number): Decoded })(numel);
    const rank = t.shape.length;
    const idx = new Array<number>(rank).fill(0);
    for (let i = 0; i < numel; i++) {
      let p = t.offset;
      for (let d = 0; d < rank; d++) p += idx[d]! * t.stride[d]!;
      values[i] = src[p]!;
      for (let d = rank - 1; d >= 0; d--) {
        if (++idx[d]! < t.shape[d]!) break;
        idx[d] = 0;
      }
    }
  }
  return tf.tensor(values, t.shape, kind.dtype);
}

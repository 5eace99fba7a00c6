import * as tf from '@tensorflow/tfjs-core';
import { zipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR } from '../../../../test-support/shared.js';
import { useWasmBackend } from '../models/testing.js';
import { UnsafePickleError, WeightsFormatError } from './errors.js';
import { readTorchCheckpoint } from './torch.js';

// --- a tiny pickle assembler (protocol 2/4 opcodes, as torch.save writes them) ------------------------------
const te = new TextEncoder();
type Part = number | Uint8Array | string;
const bytes = (...parts: Part[]): Uint8Array => {
  const chunks = parts.map((p) => (typeof p === 'number' ? Uint8Array.of(p) : typeof p === 'string' ? te.encode(p) : p));
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
};
const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};
const OP = {
  PROTO: 0x80,
  MARK: 0x28,
  STOP: 0x2e,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  EMPTY_TUPLE: 0x29,
  REDUCE: 0x52,
  SETITEMS: 0x75,
  BINPERSID: 0x51,
  NEWFALSE: 0x89,
  BININT1: 0x4b,
  EMPTY_DICT: 0x7d,
  SETITEM: 0x73,
  EMPTY_LIST: 0x5d,
  STACK_GLOBAL: 0x93,
  INST: 0x69,
};
const str = (s: string): Uint8Array => bytes(0x58, u32(te.encode(s).length), s);
const int = (n: number): Uint8Array => (n < 256 ? bytes(OP.BININT1, n) : bytes(0x4a /* BININT */, u32(n)));
const tuple = (...items: Uint8Array[]): Uint8Array => bytes(OP.MARK, ...items, OP.TUPLE);
const global = (mod: string, name: string): Uint8Array => bytes(0x63, `${mod}\n${name}\n`);
const orderedDict = bytes(global('collections', 'OrderedDict'), OP.EMPTY_TUPLE, OP.REDUCE);

interface TensorSpec {
  storage: string;
  key: string;
  numel: number;
  offset?: number;
  shape: number[];
  stride: number[];
}
const tensor = (t: TensorSpec): Uint8Array =>
  bytes(
    global('torch._utils', '_rebuild_tensor_v2'),
    tuple(
      bytes(tuple(str('storage'), global('torch', t.storage), str(t.key), str('cpu'), int(t.numel)), OP.BINPERSID),
      int(t.offset ?? 0),
      tuple(...t.shape.map(int)),
      tuple(...t.stride.map(int)),
      Uint8Array.of(OP.NEWFALSE),
      orderedDict,
    ),
    OP.REDUCE,
  );
const stateDictPickle = (entries: Array<[string, TensorSpec]>): Uint8Array =>
  bytes(OP.PROTO, 2, orderedDict, OP.MARK, ...entries.flatMap(([k, t]) => [str(k), tensor(t)]), OP.SETITEMS, OP.STOP);
const checkpoint = (pkl: Uint8Array, storages: Record<string, Uint8Array>): Uint8Array =>
  zipSync(
    {
      'archive/data.pkl': pkl,
      'archive/version': te.encode('3\n'),
      ...Object.fromEntries(Object.entries(storages).map(([k, v]) => [`archive/data/${k}`, v])),
    },
    { level: 0 },
  );
const f32 = (...v: number[]): Uint8Array => new Uint8Array(Float32Array.from(v).buffer);

/**
 * torch 1.13 `torch.save(sd, f, _use_new_zipfile_serialization=False)` of
 * `OrderedDict(w=tensor([[1,2,3],[4,5,6]]), h=tensor([1.5,-2], float16), n=tensor(7), v=w[:, 1])`.
 */
const LEGACY = Uint8Array.from(
  atob(
    'gAKKCmz8nEb5IGqoUBkugAJN6QMugAJ9cQAoWBAAAABwcm90b2NvbF92ZXJzaW9ucQFN6QNYDQAAAGxpdHRsZV9lbmRpYW5xAohYCgAAAHR5cGVfc2l6ZXNxA31xBChYBQAAAHNob3J0cQVLAlgDAAAAaW50cQZLBFgEAAAAbG9uZ3EHSwR1dS6AAmNjb2xsZWN0aW9ucwpPcmRlcmVkRGljdApxAClScQEoWAEAAAB3cQJjdG9yY2guX3V0aWxzCl9yZWJ1aWxkX3RlbnNvcl92MgpxAygoWAcAAABzdG9yYWdlcQRjdG9yY2gKRmxvYXRTdG9yYWdlCnEFWAgAAAA4OTY3ODE3NnEGWAMAAABjcHVxB0sGTnRxCFFLAEsCSwOGcQlLA0sBhnEKiWgAKVJxC3RxDFJxDVgBAAAAaHEOaAMoKGgEY3RvcmNoCkhhbGZTdG9yYWdlCnEPWAkAAAAxNTE1NjAxNjBxEGgHSwJOdHERUUsASwKFcRJLAYVxE4loAClScRR0cRVScRZYAQAAAG5xF2gDKChoBGN0b3JjaApMb25nU3RvcmFnZQpxGFgJAAAAMTUxNDUzNzI4cRloB0sBTnRxGlFLACkpiWgAKVJxG3RxHFJxHVgBAAAAdnEeaAMoKGgEaAVYCAAAADg5Njc4MTc2cR9oB0sGTnRxIFFLAUsChXEhSwOFcSKJaAApUnEjdHEkUnEldS6AAl1xAChYCQAAADE1MTQ1MzcyOHEBWAkAAAAxNTE1NjAxNjBxAlgIAAAAODk2NzgxNzZxA2UuAQAAAAAAAAAHAAAAAAAAAAIAAAAAAAAAAD4AwAYAAAAAAAAAAACAPwAAAEAAAEBAAACAQAAAoEAAAMBA',
  ),
  (c) => c.charCodeAt(0),
);

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('readTorchCheckpoint', () => {
  beforeAll(useWasmBackend);

  it('reads float, half, long and strided (non-contiguous) tensors', async () => {
    const half = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]).buffer); // 1, -2, 65504, 2^-24
    const long = new Uint8Array(new BigInt64Array([0n, -5n, 2147483647n]).buffer);
    const pkl = stateDictPickle([
      ['a', { storage: 'FloatStorage', key: '0', numel: 6, shape: [2, 3], stride: [3, 1] }],
      ['a_t', { storage: 'FloatStorage', key: '0', numel: 6, shape: [3, 2], stride: [1, 3] }],
      ['tail', { storage: 'FloatStorage', key: '0', numel: 6, offset: 4, shape: [2], stride: [1] }],
      ['h', { storage: 'HalfStorage', key: '1', numel: 4, shape: [4], stride: [1] }],
      ['n', { storage: 'LongStorage', key: '2', numel: 3, shape: [3], stride: [1] }],
    ]);
    const sd = readTorchCheckpoint(checkpoint(pkl, { 0: f32(1, 2, 3, 4, 5, 6), 1: half, 2: long }));
    expect([...sd.keys()]).toEqual(['a', 'a_t', 'tail', 'h', 'n']);
    expect(await sd.get('a')!.array()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(await sd.get('a_t')!.array()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(await sd.get('tail')!.array()).toEqual([5, 6]);
    expect(await sd.get('h')!.array()).toEqual([1, -2, 65504, 2 ** -24]);
    expect(sd.get('n')!.dtype).toBe('int32');
    expect(await sd.get('n')!.array()).toEqual([0, -5, 2147483647]);
    tf.dispose([...sd.values()]);
  });

  it('finds the state dict inside a training checkpoint dict', async () => {
    const inner = bytes(
      orderedDict,
      OP.MARK,
      str('w'),
      tensor({ storage: 'FloatStorage', key: '0', numel: 1, shape: [], stride: [] }),
      OP.SETITEMS,
    );
    const pkl = bytes(OP.PROTO, 2, OP.EMPTY_DICT, OP.MARK, str('epoch'), int(3), str('state_dict'), inner, OP.SETITEMS, OP.STOP);
    const sd = readTorchCheckpoint(checkpoint(pkl, { 0: f32(7) }));
    expect(await sd.get('w')!.array()).toBe(7);
    tf.dispose([...sd.values()]);
  });

  it('refuses a pickle that references os.system, naming it, without running anything', () => {
    const pkl = bytes(OP.PROTO, 2, global('os', 'system'), str('touch /tmp/fastts-pwned'), OP.TUPLE1, OP.REDUCE, OP.STOP);
    const e = thrown(() => readTorchCheckpoint(checkpoint(pkl, {})));
    expect(e).toBeInstanceOf(UnsafePickleError);
    expect(e.message).toMatch(/global 'os\.system', which is not needed to load a state dict/);
  });

  it('refuses STACK_GLOBAL builtins.eval and code-running opcodes such as INST', () => {
    const viaStack = bytes(OP.PROTO, 4, str('builtins'), str('eval'), OP.STACK_GLOBAL, str('1+1'), OP.TUPLE1, OP.REDUCE, OP.STOP);
    expect(thrown(() => readTorchCheckpoint(checkpoint(viaStack, {}))).message).toMatch(/'builtins\.eval'/);
    const inst = bytes(OP.PROTO, 2, OP.MARK, str('ls'), OP.INST, 'os\nsystem\n', OP.STOP);
    const e = thrown(() => readTorchCheckpoint(checkpoint(inst, {})));
    expect(e).toBeInstanceOf(UnsafePickleError);
    expect(e.message).toMatch(/opcode INST/);
  });

  it('rejects absurd lengths before allocating', () => {
    const pkl = bytes(OP.PROTO, 2, 0x58, u32(0xfffffff0), 'x', OP.STOP);
    expect(thrown(() => readTorchCheckpoint(checkpoint(pkl, {}))).message).toMatch(/needs 4294967280 more bytes/);
  });

  it('rejects storages shorter than declared and views outside their storage', () => {
    const big = stateDictPickle([['w', { storage: 'FloatStorage', key: '0', numel: 1000000, shape: [1000000], stride: [1] }]]);
    expect(thrown(() => readTorchCheckpoint(checkpoint(big, { 0: f32(1, 2) }))).message).toMatch(
      /storage '0' needs 4000000 bytes .* but its archive entry has 8: truncated file/,
    );
    const outside = stateDictPickle([['w', { storage: 'FloatStorage', key: '0', numel: 2, offset: 1, shape: [2], stride: [1] }]]);
    expect(thrown(() => readTorchCheckpoint(checkpoint(outside, { 0: f32(1, 2) }))).message).toMatch(
      /reads element 2 of storage '0', which has 2/,
    );
    const missing = stateDictPickle([['w', { storage: 'FloatStorage', key: '9', numel: 2, shape: [2], stride: [1] }]]);
    expect(thrown(() => readTorchCheckpoint(checkpoint(missing, {}))).message).toMatch(/archive\/data\/9 is missing/);
  });

  it('rejects int64 values that do not fit int32', () => {
    const pkl = stateDictPickle([['n', { storage: 'LongStorage', key: '0', numel: 1, shape: [1], stride: [1] }]]);
    const long = new Uint8Array(new BigInt64Array([1n << 40n]).buffer);
    expect(thrown(() => readTorchCheckpoint(checkpoint(pkl, { 0: long }))).message).toMatch(
      /tensor 'n': int64 value 1099511627776/,
    );
  });

  it('explains files that are not state dicts', () => {
    const list = bytes(OP.PROTO, 2, OP.EMPTY_LIST, OP.STOP);
    expect(thrown(() => readTorchCheckpoint(checkpoint(list, {}))).message).toMatch(/holds a list, not a state dict/);
    expect(thrown(() => readTorchCheckpoint(te.encode('hello world'))).message).toMatch(/not a torch\.save file/);
  });

  it('reads the legacy (pre-1.6) format, shared storages included', async () => {
    const sd = readTorchCheckpoint(LEGACY);
    expect([...sd.keys()]).toEqual(['w', 'h', 'n', 'v']);
    expect(await sd.get('w')!.array()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(await sd.get('h')!.array()).toEqual([1.5, -2]);
    expect(await sd.get('n')!.array()).toBe(7);
    expect(await sd.get('v')!.array()).toEqual([2, 5]);
    tf.dispose([...sd.values()]);
    expect(thrown(() => readTorchCheckpoint(LEGACY.subarray(0, LEGACY.length - 10))).message).toMatch(
      /storage '89678176' needs 24 bytes but only 14 remain: the file is truncated/,
    );
  });

  it('fails fast on a truncated checkpoint', () => {
    const full = new Uint8Array(readFileSync(join(SHARED_DIR, 'fixtures', 'torchvision-resnet18', 'resnet18.pth')));
    const e = thrown(() => readTorchCheckpoint(full.subarray(0, Math.floor(full.length * 0.6))));
    expect(e).toBeInstanceOf(WeightsFormatError);
    expect(e.message).toMatch(/torch checkpoint: the zip archive is truncated or corrupt/);
  });
});

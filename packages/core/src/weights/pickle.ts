/**
 * A restricted pickle virtual machine: exactly the opcodes that `torch.save(state_dict)` emits (protocols 2-4),
 * no code execution. Globals are resolved through a policy that returns inert JS stand-ins for the few
 * callables it allows and throws for anything else, so a hostile file can neither run code nor make the reader
 * allocate more than a small multiple of its own size (every length is checked against the bytes left).
 */
import { UnsafePickleError, WeightsFormatError } from './errors.js';
import { decodeUtf8, decodeLatin1 } from './text.js';

/** A Python value as this VM represents it. Tuples are frozen arrays; lists, dicts and callables are classes. */
export type PyValue =
  null | boolean | number | bigint | string | Uint8Array | readonly PyValue[] | PyList | PyDict | PyCallable | PyObject;

/** A Python list. */
export class PyList {
  constructor(readonly items: PyValue[] = []) {}
}

/** A Python dict (or OrderedDict). Keys are strings, numbers or bigints; `attrs` holds state set by BUILD. */
export class PyDict {
  readonly map = new Map<string | number | bigint | boolean | null, PyValue>();
  attrs: PyValue = null;
}

/** An opaque object produced by an allowed callable (e.g. a tensor or storage reference). */
export interface PyObject {
  readonly pyType: string;
}

/** A global the policy allowed: calling it (REDUCE / NEWOBJ) runs `call`, which builds an inert JS value. */
export class PyCallable {
  constructor(
    /** `module.name`, for messages. */
    readonly qualifiedName: string,
    readonly call: (args: readonly PyValue[]) => PyValue,
  ) {}
}

/** What the VM asks its embedder: which globals exist, and what persistent ids refer to. */
export interface UnpicklePolicy {
  /** Returns the stand-in for `module.name`, or throws {@link UnsafePickleError}. */
  resolveGlobal(module: string, name: string): PyCallable;
  /** Resolves a BINPERSID reference (torch: storages). */
  persistentLoad(pid: PyValue): PyValue;
}

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK',
  0x2e: 'STOP',
  0x30: 'POP',
  0x31: 'POP_MARK',
  0x32: 'DUP',
  0x46: 'FLOAT',
  0x49: 'INT',
  0x4a: 'BININT',
  0x4b: 'BININT1',
  0x4c: 'LONG',
  0x4d: 'BININT2',
  0x4e: 'NONE',
  0x50: 'PERSID',
  0x51: 'BINPERSID',
  0x52: 'REDUCE',
  0x53: 'STRING',
  0x54: 'BINSTRING',
  0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE',
  0x58: 'BINUNICODE',
  0x61: 'APPEND',
  0x62: 'BUILD',
  0x63: 'GLOBAL',
  0x64: 'DICT',
  0x7d: 'EMPTY_DICT',
  0x65: 'APPENDS',
  0x67: 'GET',
  0x68: 'BINGET',
  0x69: 'INST',
  0x6a: 'LONG_BINGET',
  0x6c: 'LIST',
  0x5d: 'EMPTY_LIST',
  0x6f: 'OBJ',
  0x70: 'PUT',
  0x71: 'BINPUT',
  0x72: 'LONG_BINPUT',
  0x73: 'SETITEM',
  0x74: 'TUPLE',
  0x29: 'EMPTY_TUPLE',
  0x75: 'SETITEMS',
  0x47: 'BINFLOAT',
  0x80: 'PROTO',
  0x81: 'NEWOBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x85: 'TUPLE1',
  0x86: 'TUPLE2',
  0x87: 'TUPLE3',
  0x88: 'NEWTRUE',
  0x89: 'NEWFALSE',
  0x8a: 'LONG1',
  0x8b: 'LONG4',
  0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE',
  0x8d: 'BINUNICODE8',
  0x8e: 'BINBYTES8',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL',
  0x94: 'MEMOIZE',
  0x95: 'FRAME',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

/** Describes a value's type for error messages. */
export function pyTypeName(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'tuple';
  if (v instanceof PyList) return 'list';
  if (v instanceof PyDict) return 'dict';
  if (v instanceof PyCallable) return v.qualifiedName;
  return (v as PyObject).pyType;
}

/**
 * Runs a pickle program under `policy` and returns the value it STOPs with.
 * @throws UnsafePickleError for disallowed globals or opcodes; WeightsFormatError for malformed data.
 */
export function unpickle(data: Uint8Array, policy: UnpicklePolicy): PyValue {
  return unpickleAt(data, 0, policy).value;
}

/**
 * Runs the pickle program starting at byte `offset` (files such as legacy `torch.save` output hold several
 * pickles back to back) and returns its value and the offset just past its STOP opcode.
 */
export function unpickleAt(data: Uint8Array, offset: number, policy: UnpicklePolicy): { value: PyValue; end: number } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = offset;
  let stack: PyValue[] = [];
  const marks: PyValue[][] = [];
  const memo = new Map<number, PyValue>();

  const bad = (msg: string): never => {
    throw new WeightsFormatError('torch checkpoint', `pickle data: ${msg} (at byte ${pos})`);
  };
  const need = (n: number): void => {
    if (n < 0 || pos + n > data.length) bad(`needs ${n} more bytes but only ${data.length - pos} remain (truncated?)`);
  };
  const u8 = (): number => {
    need(1);
    return data[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(data.length)) bad(`length ${v} exceeds the pickle's size`);
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0 || end - pos > 1024) bad('unterminated or overlong text line');
    const s = decodeLatin1(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const text = (n: number): string => {
    const raw = bytes(n);
    try {
      return decodeUtf8(raw);
    } catch {
      return bad('invalid UTF-8 string');
    }
  };
  const pop = (): PyValue => {
    if (stack.length === 0) bad('stack underflow');
    return stack.pop()!;
  };
  const top = (): PyValue => {
    if (stack.length === 0) bad('stack underflow');
    return stack[stack.length - 1]!;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = marks.pop();
    if (prev === undefined) bad('MARK expected');
    stack = prev!;
    return items;
  };
  const memoGet = (i: number): PyValue => {
    if (!memo.has(i)) bad(`memo key ${i} was never stored`);
    return memo.get(i)!;
  };
  const littleEndianInt = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    if (b.length > 64) bad(`integer of ${b.length} bytes is too large`);
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const setItems = (dict: PyValue, items: PyValue[]): void => {
    if (!(dict instanceof PyDict)) bad(`SETITEM(S) on a ${pyTypeName(dict)}, not a dict`);
    if (items.length % 2 !== 0) bad('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) {
      const k = items[i]!;
      if (!(k === null || ['string', 'number', 'bigint', 'boolean'].includes(typeof k))) {
        bad(`dict key of type ${pyTypeName(k)} is not supported`);
      }
      (dict as PyDict).map.set(k as string | number | bigint | boolean | null, items[i + 1]!);
    }
  };
  const append = (list: PyValue, items: PyValue[]): void => {
    if (!(list instanceof PyList)) bad(`APPEND(S) on a ${pyTypeName(list)}, not a list`);
    (list as PyList).items.push(...items);
  };
  const call = (fn: PyValue, args: PyValue): PyValue => {
    if (!(fn instanceof PyCallable)) bad(`cannot call a ${pyTypeName(fn)}`);
    if (!Array.isArray(args)) bad(`call arguments must be a tuple, got ${pyTypeName(args)}`);
    return (fn as PyCallable).call(args as readonly PyValue[]);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) bad('unsupported pickle protocol');
        break;
      case 0x95: // FRAME (length of the next frame; frames are an optimization only)
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length > 0) bad('STOP with an unbalanced stack');
        return { value: stack[0]!, end: pos };
      case 0x28: // MARK
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(littleEndianInt(bytes(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(littleEndianInt(bytes(i32())));
        break;
      case 0x47: {
        // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x54: // BINSTRING (python 2 str)
        stack.push(decodeLatin1(bytes(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(decodeLatin1(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(bytes(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(Object.freeze([]));
        break;
      case 0x85: // TUPLE1
        stack.push(Object.freeze([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(Object.freeze([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(Object.freeze([a, b, c]));
        break;
      }
      case 0x74: {
        // TUPLE (pop the mark first: `stack` is rebound by popMark)
        const items = popMark();
        stack.push(Object.freeze(items));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push(new PyList());
        break;
      case 0x6c: {
        // LIST
        const items = popMark();
        stack.push(new PyList(items));
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        const name = line();
        stack.push(policy.resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') bad('STACK_GLOBAL needs two strings');
        stack.push(policy.resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(call(fn, args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        const cls = pop();
        stack.push(call(cls, args));
        break;
      }
      case 0x51: // BINPERSID
        stack.push(policy.persistentLoad(pop()));
        break;
      case 0x62: {
        // BUILD: obj.__setstate__(state). Only dicts take state (OrderedDict's `_metadata`); it is kept inert.
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) obj.attrs = state;
        else if (state !== null) bad(`BUILD on a ${pyTypeName(obj)} is not supported`);
        break;
      }
      default: {
        const name = OPCODE_NAMES[op];
        pos = at;
        throw new UnsafePickleError(
          name
            ? `the pickle uses opcode ${name} (0x${op.toString(16)}) at byte ${at}, which a state dict never needs`
            : `unknown pickle opcode 0x${op.toString(16)} at byte ${at} (corrupt file?)`,
        );
      }
    }
  }
}

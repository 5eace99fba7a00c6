/**
 * A minimal WebAssembly binary writer: enough to emit small SIMD kernels at run time (one type per function,
 * one imported memory, i32/v128 locals, loops). No toolchain, no build step: the kernels are plain arrays of
 * opcodes assembled here.
 */

export const I32 = 0x7f;
export const V128 = 0x7b;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (32-bit). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): number[] => {
  const bytes = [...s].map((c) => c.charCodeAt(0));
  return [...uleb(bytes.length), ...bytes];
};

/** Instruction encoders (the ones the kernels use). */
export const op = {
  get: (i: number): number[] => [0x20, ...uleb(i)],
  set: (i: number): number[] => [0x21, ...uleb(i)],
  tee: (i: number): number[] => [0x22, ...uleb(i)],
  i32: (v: number): number[] => [0x41, ...sleb(v)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  gtS: [0x4a],
  eq: [0x46],
  eqz: [0x45],
  /** if (i32 on the stack) without a result; close with `end`. */
  if: [0x04, 0x40],
  /** f32.const */
  f32: (v: number): number[] => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (depth: number): number[] => [0x0c, ...uleb(depth)],
  brIf: (depth: number): number[] => [0x0d, ...uleb(depth)],
  end: [0x0b],
  /** i32.load with offset (align 4). */
  load32: (offset = 0): number[] => [0x28, 2, ...uleb(offset)],
  /** v128.load (align 16 hint; unaligned access is allowed). */
  vload: (offset = 0): number[] => [0xfd, ...uleb(0), 4, ...uleb(offset)],
  vstore: (offset = 0): number[] => [0xfd, ...uleb(11), 4, ...uleb(offset)],
  /** v128.load32_splat: one f32 from memory into all four lanes. */
  vsplat32: (offset = 0): number[] => [0xfd, ...uleb(9), 2, ...uleb(offset)],
  vzero: [0xfd, ...uleb(12), ...new Array<number>(16).fill(0)],
  /** v128.const with the float `v` in all four lanes. */
  f32x4Const: (v: number): number[] => {
    const lanes = new Uint8Array(new Float32Array([v, v, v, v]).buffer);
    return [0xfd, ...uleb(12), ...lanes];
  },
  f32x4Splat: [0xfd, ...uleb(19)],
  f32x4Min: [0xfd, ...uleb(232)],
  f32x4Max: [0xfd, ...uleb(233)],
  f32x4Sub: [0xfd, ...uleb(229)],
  f32x4Add: [0xfd, ...uleb(228)],
  f32x4Mul: [0xfd, ...uleb(230)],
  f32x4Neg: [0xfd, ...uleb(225)],
  /** v128.load32_lane: (address, vector) → the vector with lane `lane` loaded from memory. */
  load32Lane: (lane: number, offset = 0): number[] => [0xfd, ...uleb(86), 2, ...uleb(offset), lane],
  /** f32x4.extract_lane */
  f32x4ExtractLane: (lane: number): number[] => [0xfd, ...uleb(31), lane],
  /** f32.store with offset (align 4). */
  fstore: (offset = 0): number[] => [0x38, 2, ...uleb(offset)],
  /** f32x4.relaxed_madd (relaxed SIMD): a·b + c, fused where the CPU can. */
  f32x4Madd: [0xfd, ...uleb(0x105)],
};

/** One function of a module: its i32 parameter count, extra locals and body (without the final `end`). */
export interface FunctionSpec {
  name: string;
  params: number;
  locals: Array<[count: number, type: number]>;
  body: number[];
}

/**
 * A module importing `env.memory` (shared when `sharedMemory`, as the threaded tfjs build's) and exporting the
 * functions. Every parameter is an i32; no function returns a value.
 */
export function buildModule(functions: FunctionSpec[], sharedMemory: boolean): Uint8Array {
  const paramCounts = [...new Set(functions.map((f) => f.params))];
  const types = section(1, vec(paramCounts.map((n) => [0x60, ...vec(new Array<number[]>(n).fill([I32])), 0])));
  // memory limits: 0x00 min | 0x03 min max shared
  const limits = sharedMemory ? [0x03, ...uleb(0), ...uleb(65536)] : [0x00, ...uleb(0)];
  const imports = section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]]));
  const funcs = section(3, vec(functions.map((f) => uleb(paramCounts.indexOf(f.params)))));
  const exports = section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])));
  const code = section(
    10,
    vec(
      functions.map((f) => {
        const bodyBytes = [...vec(f.locals.map(([count, type]) => [...uleb(count), type])), ...f.body, ...op.end];
        return [...uleb(bodyBytes.length), ...bodyBytes];
      }),
    ),
  );
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...types, ...imports, ...funcs, ...exports, ...code]);
}

/**
 * Gradients of the parameter-free layers as WebAssembly SIMD micro-kernels: ReLU's (dy where x > 0) and the max
 * pool's.
 *
 * The max pool's: for one output pixel, four channels at a time, the
 * window's first maximum (strict `>` in row-major window order, the tfjs reference's tie rule) is found with
 * `f32x4.gt` and `v128.bitselect` (value and byte offset side by side), then that pixel's dy is added at the
 * maximum's position in dx.
 */
import { I32, op, V128, type FunctionSpec } from './wasm-emitter.js';

const f32x4Gt = [0xfd, 68];
const bitselect = [0xfd, 82];
const i32x4Splat = [0xfd, 17];
const i32x4ExtractLane = (lane: number): number[] => [0xfd, 27, lane];
const f32Load = (offset: number): number[] => [0x2a, 2, offset];
const f32Store = (offset: number): number[] => [0x38, 2, offset];
const f32Add = [0x92];
const v128And = [0xfd, 78];

/**
 * mpgrad(x, dx, dy, rowBytes, colBytes, rows, cols, chunks): the window of one output pixel starts at byte `x`
 * (its top-left in-bounds pixel; the same place in dx at `dx`), spans `rows` × `cols` pixels `rowBytes` and
 * `colBytes` apart; for each of `chunks` groups of 4 channels, dy (at `dy`) goes to the window's first maximum.
 * dx is accumulated into (windows may overlap).
 */
export function maxPoolGradKernel(): FunctionSpec {
  const [X, DX, DY, ROW, COL, ROWS, COLS, CHUNKS] = [0, 1, 2, 3, 4, 5, 6, 7];
  // i32 locals: 8 chunk byte offset, 9 rows left, 10 cols left, 11 row offset, 12 offset, 13 address
  const [K, R, C, ROFF, OFF, ADDR] = [8, 9, 10, 11, 12, 13];
  // v128 locals: 14 best, 15 index, 16 value, 17 mask
  const [BEST, IDX, V, M] = [14, 15, 16, 17];
  const b: number[] = [];
  b.push(...op.i32(0), ...op.set(K));
  b.push(...op.block, ...op.loop); // chunks
  b.push(...op.get(X), ...op.get(K), ...op.add, ...op.vload(), ...op.set(BEST));
  b.push(...op.i32(0), ...i32x4Splat, ...op.set(IDX));
  b.push(...op.i32(0), ...op.set(ROFF), ...op.get(ROWS), ...op.set(R));
  b.push(...op.block, ...op.loop); // window rows
  b.push(...op.get(ROFF), ...op.set(OFF), ...op.get(COLS), ...op.set(C));
  b.push(...op.block, ...op.loop); // window columns
  b.push(...op.get(X), ...op.get(K), ...op.add, ...op.get(OFF), ...op.add, ...op.vload(), ...op.set(V));
  b.push(...op.get(V), ...op.get(BEST), ...f32x4Gt, ...op.set(M));
  b.push(...op.get(V), ...op.get(BEST), ...op.get(M), ...bitselect, ...op.set(BEST));
  b.push(...op.get(OFF), ...i32x4Splat, ...op.get(IDX), ...op.get(M), ...bitselect, ...op.set(IDX));
  b.push(...op.get(OFF), ...op.get(COL), ...op.add, ...op.set(OFF));
  b.push(...op.get(C), ...op.i32(1), ...op.sub, ...op.tee(C), ...op.brIf(0), ...op.end, ...op.end);
  b.push(...op.get(ROFF), ...op.get(ROW), ...op.add, ...op.set(ROFF));
  b.push(...op.get(R), ...op.i32(1), ...op.sub, ...op.tee(R), ...op.brIf(0), ...op.end, ...op.end);
  for (let lane = 0; lane < 4; lane++) {
    b.push(...op.get(DX), ...op.get(K), ...op.add, ...op.get(IDX), ...i32x4ExtractLane(lane), ...op.add, ...op.tee(ADDR));
    b.push(...op.get(ADDR), ...f32Load(4 * lane), ...op.get(DY), ...op.get(K), ...op.add, ...f32Load(4 * lane), ...f32Add);
    b.push(...f32Store(4 * lane));
  }
  b.push(...op.get(K), ...op.i32(16), ...op.add, ...op.set(K));
  b.push(...op.get(CHUNKS), ...op.i32(1), ...op.sub, ...op.tee(CHUNKS), ...op.brIf(0), ...op.end, ...op.end);
  return {
    name: 'mpgrad',
    params: 8,
    locals: [
      [6, I32],
      [4, V128],
    ],
    body: b,
  };
}

/** relugrad(dy, x, out, n4): out = dy where x > 0, else 0, over n4 groups of 4 floats (one pass, no temporaries). */
export function reluGradKernel(): FunctionSpec {
  const [DY, X, OUT, N] = [0, 1, 2, 3];
  const b: number[] = [];
  b.push(...op.block, ...op.get(N), ...op.eqz, ...op.brIf(0), ...op.loop);
  b.push(
    ...op.get(OUT),
    ...op.get(DY),
    ...op.vload(),
    ...op.get(X),
    ...op.vload(),
    ...op.vzero,
    ...f32x4Gt,
    ...v128And,
    ...op.vstore(),
  );
  for (const p of [DY, X, OUT]) b.push(...op.get(p), ...op.i32(16), ...op.add, ...op.set(p));
  b.push(...op.get(N), ...op.i32(1), ...op.sub, ...op.tee(N), ...op.brIf(0), ...op.end, ...op.end);
  return { name: 'relugrad', params: 4, locals: [], body: b };
}

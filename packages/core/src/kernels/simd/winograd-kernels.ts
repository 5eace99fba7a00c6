/**
 * The transforms of Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional
 * Neural Networks", 2015), emitted as WebAssembly SIMD, four channels per vector:
 *
 * - `wtin`: input tiles d (4×4 pixels, stride 2) → V = Bᵀ d B, the 16 transformed values of every channel
 *   written to 16 planes ξ = 4a + b.
 * - `wtout`: M (16 planes) → the 2×2 output tile Aᵀ M A.
 * - `wtdy`: output-gradient tiles dY (2×2) → Z = A dY Aᵀ, for the weight gradient Σ Vᵀ Z (then Gᵀ S G).
 *
 * Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], Aᵀ = [1 1 1 0; 0 1 −1 −1]; the products between them are the
 * engine's GEMMs (conv-kernels.ts), the filter transform G g Gᵀ runs on the host (winograd.ts).
 */
import { I32, op, V128, type FunctionSpec } from './wasm-emitter.js';

const sub = (a: number, b: number): number[] => [...op.get(a), ...op.get(b), ...op.f32x4Sub];
const add = (a: number, b: number): number[] => [...op.get(a), ...op.get(b), ...op.f32x4Add];

/** Stores the 16 values produced by `value(ξ)` at st, st + xi, st + 2·xi, … (st advanced, then restored). */
function storePlanes(ST: number, Q: number, XI: number, value: (xi: number) => number[]): number[] {
  const b: number[] = [...op.get(Q), ...op.set(ST)];
  for (let xi = 0; xi < 16; xi++) {
    b.push(...op.get(ST), ...value(xi), ...op.vstore(0));
    if (xi < 15) b.push(...op.get(ST), ...op.get(XI), ...op.add, ...op.set(ST));
  }
  return b;
}

/**
 * wtin(src, rowBytes, pixBytes, chunks, dst, xiStride, ldv, count) — `count` tiles along a row: tile k's 4×4
 * input window starts at src + 2k·pixBytes (rows rowBytes apart), its transformed channels go to
 * dst + k·ldv + ξ·xiStride; `chunks` groups of 4 channels.
 */
export function wtin(): FunctionSpec {
  const [SRC, ROW, PIX, CHUNKS, DST, XI, LDV, COUNT] = [0, 1, 2, 3, 4, 5, 6, 7];
  // i32 locals
  const [N, K, S, Q, ST, P2, P3, R2, R3] = [8, 9, 10, 11, 12, 13, 14, 15, 16];
  const D = 17; // 16 v128: d[r][c] = D + 4r + c
  const T = 33; // 16 v128: t[k][c] = (Bᵀ d)[k][c]
  const rowOff = [null, ROW, R2, R3];
  const colOff = [null, PIX, P2, P3];
  const b: number[] = [];
  b.push(...op.get(PIX), ...op.i32(2), ...op.mul, ...op.set(P2), ...op.get(P2), ...op.get(PIX), ...op.add, ...op.set(P3));
  b.push(...op.get(ROW), ...op.i32(2), ...op.mul, ...op.set(R2), ...op.get(R2), ...op.get(ROW), ...op.add, ...op.set(R3));
  b.push(...op.get(COUNT), ...op.set(N));
  b.push(...op.block, ...op.loop); // tiles
  b.push(...op.get(SRC), ...op.set(S), ...op.get(DST), ...op.set(Q), ...op.get(CHUNKS), ...op.set(K));
  b.push(...op.block, ...op.loop); // channel chunks
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      b.push(...op.get(S));
      if (rowOff[r] !== null) b.push(...op.get(rowOff[r]!), ...op.add);
      if (colOff[c] !== null) b.push(...op.get(colOff[c]!), ...op.add);
      b.push(...op.vload(0), ...op.set(D + 4 * r + c));
    }
  }
  const d = (r: number, c: number): number => D + 4 * r + c;
  const t = (k: number, c: number): number => T + 4 * k + c;
  for (let c = 0; c < 4; c++) {
    b.push(...sub(d(0, c), d(2, c)), ...op.set(t(0, c)));
    b.push(...add(d(1, c), d(2, c)), ...op.set(t(1, c)));
    b.push(...sub(d(2, c), d(1, c)), ...op.set(t(2, c)));
    b.push(...sub(d(1, c), d(3, c)), ...op.set(t(3, c)));
  }
  b.push(
    ...storePlanes(ST, Q, XI, (xi) => {
      const k = xi >> 2;
      switch (xi & 3) {
        case 0:
          return sub(t(k, 0), t(k, 2));
        case 1:
          return add(t(k, 1), t(k, 2));
        case 2:
          return sub(t(k, 2), t(k, 1));
        default:
          return sub(t(k, 1), t(k, 3));
      }
    }),
  );
  b.push(...op.get(S), ...op.i32(16), ...op.add, ...op.set(S), ...op.get(Q), ...op.i32(16), ...op.add, ...op.set(Q));
  b.push(...op.get(K), ...op.i32(1), ...op.sub, ...op.tee(K), ...op.brIf(0), ...op.end, ...op.end);
  b.push(...op.get(SRC), ...op.get(P2), ...op.add, ...op.set(SRC), ...op.get(DST), ...op.get(LDV), ...op.add, ...op.set(DST));
  b.push(...op.get(N), ...op.i32(1), ...op.sub, ...op.tee(N), ...op.brIf(0), ...op.end, ...op.end);
  return { name: 'wtin', params: 8, locals: [[9, I32], [32, V128]], body: b };
}

/**
 * wtout(m, xiStride, ldm, chunks, out0, out1, pixBytes, count, bias, act) — `count` tiles along a row: tile k's 16
 * planes at m + k·ldm + ξ·xiStride become the output pixels out0 + 2k·pixBytes (+ pixBytes) and
 * out1 + 2k·pixBytes (+ pixBytes), plus `bias` (one float per channel), then act 0 = linear, 1 = relu,
 * 2 = relu6; `chunks` groups of 4 channels.
 */
export function wtout(): FunctionSpec {
  const [M, XI, LDM, CHUNKS, OUT0, OUT1, PIX, COUNT, BIAS, ACT] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const [N, K, Q, ST, O0, O1, P2, BP] = [10, 11, 12, 13, 14, 15, 16, 17];
  const MV = 18; // 16 v128: m[a][b]
  const T = 34; // 8 v128: t[r][b] = (Aᵀ m)[r][b]
  const Y = 42; // 4 v128: y00 y01 y10 y11
  const BV = 46;
  const b: number[] = [];
  b.push(...op.get(PIX), ...op.i32(2), ...op.mul, ...op.set(P2));
  b.push(...op.get(COUNT), ...op.set(N));
  b.push(...op.block, ...op.loop); // tiles
  b.push(...op.get(M), ...op.set(Q), ...op.get(OUT0), ...op.set(O0), ...op.get(OUT1), ...op.set(O1), ...op.get(CHUNKS), ...op.set(K));
  b.push(...op.get(BIAS), ...op.set(BP));
  b.push(...op.block, ...op.loop); // channel chunks
  b.push(...op.get(Q), ...op.set(ST));
  for (let xi = 0; xi < 16; xi++) {
    b.push(...op.get(ST), ...op.vload(0), ...op.set(MV + xi));
    if (xi < 15) b.push(...op.get(ST), ...op.get(XI), ...op.add, ...op.set(ST));
  }
  const m = (a: number, c: number): number => MV + 4 * a + c;
  const t = (r: number, c: number): number => T + 4 * r + c;
  for (let c = 0; c < 4; c++) {
    b.push(...add(m(0, c), m(1, c)), ...op.get(m(2, c)), ...op.f32x4Add, ...op.set(t(0, c)));
    b.push(...sub(m(1, c), m(2, c)), ...op.get(m(3, c)), ...op.f32x4Sub, ...op.set(t(1, c)));
  }
  b.push(...op.get(BP), ...op.vload(0), ...op.set(BV));
  for (let r = 0; r < 2; r++) {
    b.push(...add(t(r, 0), t(r, 1)), ...op.get(t(r, 2)), ...op.f32x4Add, ...op.get(BV), ...op.f32x4Add, ...op.set(Y + 2 * r));
    b.push(...sub(t(r, 1), t(r, 2)), ...op.get(t(r, 3)), ...op.f32x4Sub, ...op.get(BV), ...op.f32x4Add, ...op.set(Y + 2 * r + 1));
  }
  // activation: relu clamps below at 0, relu6 also above at 6
  b.push(...op.get(ACT), ...op.if);
  for (let i = 0; i < 4; i++) b.push(...op.get(Y + i), ...op.vzero, ...op.f32x4Max, ...op.set(Y + i));
  b.push(...op.get(ACT), ...op.i32(2), ...op.eq, ...op.if);
  b.push(...op.f32(6), ...op.f32x4Splat, ...op.set(BV));
  for (let i = 0; i < 4; i++) b.push(...op.get(Y + i), ...op.get(BV), ...op.f32x4Min, ...op.set(Y + i));
  b.push(...op.end, ...op.end);
  b.push(...op.get(O0), ...op.get(Y), ...op.vstore(0));
  b.push(...op.get(O0), ...op.get(PIX), ...op.add, ...op.get(Y + 1), ...op.vstore(0));
  b.push(...op.get(O1), ...op.get(Y + 2), ...op.vstore(0));
  b.push(...op.get(O1), ...op.get(PIX), ...op.add, ...op.get(Y + 3), ...op.vstore(0));
  for (const p of [Q, O0, O1, BP]) b.push(...op.get(p), ...op.i32(16), ...op.add, ...op.set(p));
  b.push(...op.get(K), ...op.i32(1), ...op.sub, ...op.tee(K), ...op.brIf(0), ...op.end, ...op.end);
  b.push(...op.get(M), ...op.get(LDM), ...op.add, ...op.set(M));
  for (const p of [OUT0, OUT1]) b.push(...op.get(p), ...op.get(P2), ...op.add, ...op.set(p));
  b.push(...op.get(N), ...op.i32(1), ...op.sub, ...op.tee(N), ...op.brIf(0), ...op.end, ...op.end);
  return { name: 'wtout', params: 10, locals: [[8, I32], [29, V128]], body: b };
}

/**
 * wtdy(dy0, dy1, pixBytes, chunks, dst, xiStride, ldz, count) — `count` 2×2 output-gradient tiles along a row
 * (tile k at dy0/dy1 + 2k·pixBytes) to Z = A dY Aᵀ at dst + k·ldz + ξ·xiStride; `chunks` groups of 4 channels.
 */
export function wtdy(): FunctionSpec {
  const [DY0, DY1, PIX, CHUNKS, DST, XI, LDZ, COUNT] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [N, K, S0, S1, Q, ST, P2] = [8, 9, 10, 11, 12, 13, 14];
  const Y = 15; // y[p][q] = Y + 2p + q
  const T = 19; // t[i][q] = T + 2i + q (8)
  const b: number[] = [];
  b.push(...op.get(PIX), ...op.i32(2), ...op.mul, ...op.set(P2));
  b.push(...op.get(COUNT), ...op.set(N));
  b.push(...op.block, ...op.loop); // tiles
  b.push(...op.get(DY0), ...op.set(S0), ...op.get(DY1), ...op.set(S1), ...op.get(DST), ...op.set(Q), ...op.get(CHUNKS), ...op.set(K));
  b.push(...op.block, ...op.loop); // channel chunks
  b.push(...op.get(S0), ...op.vload(0), ...op.set(Y), ...op.get(S0), ...op.get(PIX), ...op.add, ...op.vload(0), ...op.set(Y + 1));
  b.push(...op.get(S1), ...op.vload(0), ...op.set(Y + 2), ...op.get(S1), ...op.get(PIX), ...op.add, ...op.vload(0), ...op.set(Y + 3));
  const y = (p: number, q: number): number => Y + 2 * p + q;
  const t = (i: number, q: number): number => T + 2 * i + q;
  for (let q = 0; q < 2; q++) {
    b.push(...op.get(y(0, q)), ...op.set(t(0, q)));
    b.push(...add(y(0, q), y(1, q)), ...op.set(t(1, q)));
    b.push(...sub(y(0, q), y(1, q)), ...op.set(t(2, q)));
    b.push(...op.get(y(1, q)), ...op.f32x4Neg, ...op.set(t(3, q)));
  }
  b.push(
    ...storePlanes(ST, Q, XI, (xi) => {
      const i = xi >> 2;
      switch (xi & 3) {
        case 0:
          return op.get(t(i, 0));
        case 1:
          return add(t(i, 0), t(i, 1));
        case 2:
          return sub(t(i, 0), t(i, 1));
        default:
          return [...op.get(t(i, 1)), ...op.f32x4Neg];
      }
    }),
  );
  for (const p of [S0, S1, Q]) b.push(...op.get(p), ...op.i32(16), ...op.add, ...op.set(p));
  b.push(...op.get(K), ...op.i32(1), ...op.sub, ...op.tee(K), ...op.brIf(0), ...op.end, ...op.end);
  for (const p of [DY0, DY1]) b.push(...op.get(p), ...op.get(P2), ...op.add, ...op.set(p));
  b.push(...op.get(DST), ...op.get(LDZ), ...op.add, ...op.set(DST));
  b.push(...op.get(N), ...op.i32(1), ...op.sub, ...op.tee(N), ...op.brIf(0), ...op.end, ...op.end);
  return { name: 'wtdy', params: 8, locals: [[7, I32], [12, V128]], body: b };
}

/**
 * The filter transform U = G g Gᵀ of 4 output channels (v128 locals G0..G8 hold g[i][j] at G0 + 3i + j) into
 * U0..U15 (U0 + 4a + b); temporaries H0..H11. G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
 */
function filterTransform(G0: number, H0: number, U0: number, HALF: number): number[] {
  const b: number[] = [];
  const half = (expr: number[]): number[] => [...expr, ...op.get(HALF), ...op.f32x4Mul];
  // H = G g (4×3)
  for (let c = 0; c < 3; c++) {
    const g0 = G0 + c;
    const g1 = G0 + 3 + c;
    const g2 = G0 + 6 + c;
    b.push(...op.get(g0), ...op.set(H0 + c));
    b.push(...half([...add(g0, g1), ...op.get(g2), ...op.f32x4Add]), ...op.set(H0 + 3 + c));
    b.push(...half([...sub(g0, g1), ...op.get(g2), ...op.f32x4Add]), ...op.set(H0 + 6 + c));
    b.push(...op.get(g2), ...op.set(H0 + 9 + c));
  }
  // U = H Gᵀ (4×4)
  for (let a = 0; a < 4; a++) {
    const h0 = H0 + 3 * a;
    b.push(...op.get(h0), ...op.set(U0 + 4 * a));
    b.push(...half([...add(h0, h0 + 1), ...op.get(h0 + 2), ...op.f32x4Add]), ...op.set(U0 + 4 * a + 1));
    b.push(...half([...sub(h0, h0 + 1), ...op.get(h0 + 2), ...op.f32x4Add]), ...op.set(U0 + 4 * a + 2));
    b.push(...op.get(h0 + 2), ...op.set(U0 + 4 * a + 3));
  }
  return b;
}

/** Loads the 9 taps of 4 output channels at p, p + tap, …, p + 8·tap into G0..G8 (local T walks the taps). */
function loadTaps(P: number, TAP: number, T: number, G0: number): number[] {
  const b: number[] = [...op.get(P), ...op.set(T)];
  for (let t = 0; t < 9; t++) {
    b.push(...op.get(T), ...op.vload(0), ...op.set(G0 + t));
    if (t < 8) b.push(...op.get(T), ...op.get(TAP), ...op.add, ...op.set(T));
  }
  return b;
}

/**
 * wtfilt(src, tapBytes, panels, dst, planeBytes, panelBytes) — the transformed filter of one input channel for
 * the forward GEMM: src = &g[0][0][ci][0] (taps tapBytes apart), `panels` groups of 8 output channels; plane ξ's
 * panel p row at dst + ξ·planeBytes + p·panelBytes (dst = the row of this input channel).
 */
export function wtfilt(): FunctionSpec {
  const [SRC, TAP, PANELS, DST, PLANE, PANEL] = [0, 1, 2, 3, 4, 5];
  const [T, ST, HALFOFF] = [6, 7, 8];
  const HALF = 9;
  const G0 = 10; // 9
  const H0 = 19; // 12
  const U0 = 31; // 16
  const b: number[] = [...op.f32(0.5), ...op.f32x4Splat, ...op.set(HALF)];
  b.push(...op.block, ...op.loop); // panels
  for (let h = 0; h < 2; h++) {
    b.push(...op.get(SRC), ...op.i32(16 * h), ...op.add, ...op.set(HALFOFF));
    b.push(...loadTaps(HALFOFF, TAP, T, G0), ...filterTransform(G0, H0, U0, HALF));
    b.push(...op.get(DST), ...op.i32(16 * h), ...op.add, ...op.set(ST));
    for (let xi = 0; xi < 16; xi++) {
      b.push(...op.get(ST), ...op.get(U0 + xi), ...op.vstore(0));
      if (xi < 15) b.push(...op.get(ST), ...op.get(PLANE), ...op.add, ...op.set(ST));
    }
  }
  b.push(...op.get(SRC), ...op.i32(32), ...op.add, ...op.set(SRC), ...op.get(DST), ...op.get(PANEL), ...op.add, ...op.set(DST));
  b.push(...op.get(PANELS), ...op.i32(1), ...op.sub, ...op.tee(PANELS), ...op.brIf(0), ...op.end, ...op.end);
  return { name: 'wtfilt', params: 6, locals: [[3, I32], [38, V128]], body: b };
}

/**
 * wtfiltT(src, tapBytes, chunks, dst, planeBytes) — the transformed filter of one input channel for the
 * input-gradient GEMM (channels swapped, taps flipped: plane ξ = 4a + b takes U[p(a)][p(b)], p = (3 1 2 0)):
 * `chunks` groups of 4 output channels, each output channel k a row 32 bytes apart, this input channel's lane at
 * dst (dst = &panel[ci/8] + (ci mod 8)·4).
 */
export function wtfiltT(): FunctionSpec {
  const [SRC, TAP, CHUNKS, DST, PLANE] = [0, 1, 2, 3, 4];
  const [T, ST] = [5, 6];
  const HALF = 7;
  const G0 = 8;
  const H0 = 17;
  const U0 = 29;
  const p = [3, 1, 2, 0];
  const b: number[] = [...op.f32(0.5), ...op.f32x4Splat, ...op.set(HALF)];
  b.push(...op.block, ...op.loop); // chunks of 4 output channels
  b.push(...loadTaps(SRC, TAP, T, G0), ...filterTransform(G0, H0, U0, HALF));
  b.push(...op.get(DST), ...op.set(ST));
  for (let xi = 0; xi < 16; xi++) {
    const src = U0 + 4 * p[xi >> 2]! + p[xi & 3]!;
    for (let lane = 0; lane < 4; lane++) {
      b.push(...op.get(ST), ...op.get(src), ...op.f32x4ExtractLane(lane), ...op.fstore(32 * lane));
    }
    if (xi < 15) b.push(...op.get(ST), ...op.get(PLANE), ...op.add, ...op.set(ST));
  }
  b.push(...op.get(SRC), ...op.i32(16), ...op.add, ...op.set(SRC), ...op.get(DST), ...op.i32(128), ...op.add, ...op.set(DST));
  b.push(...op.get(CHUNKS), ...op.i32(1), ...op.sub, ...op.tee(CHUNKS), ...op.brIf(0), ...op.end, ...op.end);
  return { name: 'wtfiltT', params: 5, locals: [[2, I32], [38, V128]], body: b };
}

/**
 * wtdw(s, out, planeBytes, count) — the weight gradient dW = Gᵀ S G from the 16 planes of S (planeBytes apart,
 * [Ci][Co] each) into the 9 taps of dW (planeBytes apart too), `count` vectors of 4 channel pairs.
 */
export function wtdw(): FunctionSpec {
  const [S, OUT, PLANE, COUNT] = [0, 1, 2, 3];
  const [P] = [4];
  const HALF = 5;
  const SV = 6; // 16
  const R = 22; // 12: r[a][j] = R + 3a + j
  const TMP = 34;
  const b: number[] = [...op.f32(0.5), ...op.f32x4Splat, ...op.set(HALF)];
  const half = (expr: number[]): number[] => [...expr, ...op.get(HALF), ...op.f32x4Mul];
  b.push(...op.block, ...op.loop);
  b.push(...op.get(S), ...op.set(P));
  for (let xi = 0; xi < 16; xi++) {
    b.push(...op.get(P), ...op.vload(0), ...op.set(SV + xi));
    if (xi < 15) b.push(...op.get(P), ...op.get(PLANE), ...op.add, ...op.set(P));
  }
  for (let a = 0; a < 4; a++) {
    const s = SV + 4 * a;
    b.push(...half(add(s + 1, s + 2)), ...op.set(TMP));
    b.push(...add(s, TMP), ...op.set(R + 3 * a));
    b.push(...half(sub(s + 1, s + 2)), ...op.set(R + 3 * a + 1));
    b.push(...add(TMP, s + 3), ...op.set(R + 3 * a + 2));
  }
  b.push(...op.get(OUT), ...op.set(P));
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const r0 = R + j;
      const r1 = R + 3 + j;
      const r2 = R + 6 + j;
      const r3 = R + 9 + j;
      b.push(...op.get(P));
      if (i === 0) b.push(...half(add(r1, r2)), ...op.get(r0), ...op.f32x4Add);
      else if (i === 1) b.push(...half(sub(r1, r2)));
      else b.push(...half(add(r1, r2)), ...op.get(r3), ...op.f32x4Add);
      b.push(...op.vstore(0));
      if (i * 3 + j < 8) b.push(...op.get(P), ...op.get(PLANE), ...op.add, ...op.set(P));
    }
  }
  b.push(...op.get(S), ...op.i32(16), ...op.add, ...op.set(S), ...op.get(OUT), ...op.i32(16), ...op.add, ...op.set(OUT));
  b.push(...op.get(COUNT), ...op.i32(1), ...op.sub, ...op.tee(COUNT), ...op.brIf(0), ...op.end, ...op.end);
  return { name: 'wtdw', params: 4, locals: [[1, I32], [30, V128]], body: b };
}

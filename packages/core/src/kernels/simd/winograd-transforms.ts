/**
 * The transforms of Winograd's minimal filtering F(4×4, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional
 * Neural Networks", 2015; interpolation points 0, ±1, ±2, ∞), emitted as WebAssembly SIMD, four channels per
 * vector. Every transform is a two-sided product L · X · Rᵀ of a small tile X per channel, emitted by one generator
 * ({@link tileTransform}): the columns of X go through L into a 16-byte-per-value scratch tile, its rows then
 * through R (so at most α + 1 vectors are live at once, within the 16 SIMD registers).
 *
 * - `w4in`: 6×6 input windows d → V = Bᵀ d B, 36 planes ξ = 6a + b.
 * - `w4out`: M (36 planes) → the 4×4 output tile Aᵀ M A, + bias, then relu/relu6.
 * - `w4dy`: 4×4 output-gradient tiles dY → Z = A dY Aᵀ (the weight gradient is Gᵀ (Σ V ⊙ Z) G).
 * - `w4filt`, `w4filtT`: 3×3 filters g → U = G g Gᵀ, packed for the forward GEMM or, flipped and with the
 *   channels swapped, for the input gradient's.
 * - `w4dw`: S (36 planes) → dW = Gᵀ S G.
 *
 * The products between the transforms are the engine's GEMMs (conv-kernels.ts).
 */
import { I32, op, V128, type FunctionSpec } from './wasm-emitter.js';

/** Bᵀ (6×6): the input transform. */
export const BT: number[][] = [
  [4, 0, -5, 0, 1, 0],
  [0, -4, -4, 1, 1, 0],
  [0, 4, -4, -1, 1, 0],
  [0, -2, -1, 2, 1, 0],
  [0, 2, -1, -2, 1, 0],
  [0, 4, 0, -5, 0, 1],
];
/** G (6×3): the filter transform. */
export const G: number[][] = [
  [1 / 4, 0, 0],
  [-1 / 6, -1 / 6, -1 / 6],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, -1 / 12, 1 / 6],
  [0, 0, 1],
];
/** Aᵀ (4×6): the output transform. */
export const AT: number[][] = [
  [1, 1, 1, 1, 1, 0],
  [0, 1, -1, 2, -2, 0],
  [0, 1, 1, 4, 4, 0],
  [0, 1, -1, 8, -8, 1],
];
const transpose = (m: number[][]): number[][] => m[0]!.map((_, j) => m.map((row) => row[j]!));

/** Output tile side (m) and input window side (α = m + 2) of F(4×4, 3×3). */
export const TILE = 4;
export const ALPHA = 6;
/** Transformed planes per tile (α²). */
export const PLANES = ALPHA * ALPHA;
/** Bytes of the scratch tile each transform kernel needs (its `tmp` parameter, 16-byte aligned). */
export const TRANSFORM_TMP_BYTES = PLANES * 16;

/** Pushes Σ_a coef[a]·x_a (x_a in v128 locals X + a), with fused multiply-adds where the engine has them. */
function linear(coef: number[], X: number, ACC: number, fma: boolean): number[] {
  const b: number[] = [];
  let first = true;
  coef.forEach((c, a) => {
    if (c === 0) return;
    if (first) {
      b.push(...op.get(X + a));
      if (c === -1) b.push(...op.f32x4Neg);
      else if (c !== 1) b.push(...op.f32x4Const(c), ...op.f32x4Mul);
      first = false;
    } else if (c === 1) {
      b.push(...op.get(X + a), ...op.f32x4Add);
    } else if (c === -1) {
      b.push(...op.get(X + a), ...op.f32x4Sub);
    } else if (fma) {
      b.push(...op.set(ACC), ...op.get(X + a), ...op.f32x4Const(c), ...op.get(ACC), ...op.f32x4Madd);
    } else {
      b.push(...op.get(X + a), ...op.f32x4Const(c), ...op.f32x4Mul, ...op.f32x4Add);
    }
  });
  if (first) b.push(...op.vzero);
  return b;
}

/** A walk over a tile in memory: the element (outer k, inner l) at base + k·outer + l·inner (i32 locals). */
interface Walk {
  base: number;
  outer: number;
  inner: number;
}

/**
 * out[i][j] = Σ_a Σ_b L[i][a] · in[a][b] · R[j][b] for one vector of 4 channels. `src` walks `in` by columns
 * (outer = b, inner = a), `dst` walks `out` by rows (outer = i, inner = j); `store(E, i, j, value)` writes the value
 * code at address local E (default: v128.store). The intermediate L·in goes through the scratch tile at i32 local
 * TMP; v128 locals X .. X + max(α, β) − 1 hold a column or row, ACC one temporary; i32 locals E, O walk.
 */
function tileTransform(
  L: number[][],
  R: number[][],
  src: Walk,
  dst: Walk,
  locals: { TMP: number; X: number; ACC: number; E: number; O: number },
  fma: boolean,
  store: (E: number, i: number, j: number, value: number[]) => number[] = (E, _i, _j, value) => [
    ...op.get(E),
    ...value,
    ...op.vstore(0),
  ],
  load: (E: number) => number[] = (E) => [...op.get(E), ...op.vload(0)],
): number[] {
  const { TMP, X, ACC, E, O } = locals;
  const rows = L.length;
  const alpha = L[0]!.length;
  const beta = R[0]!.length;
  const b: number[] = [...op.get(src.base), ...op.set(O)];
  for (let c = 0; c < beta; c++) {
    b.push(...op.get(O), ...op.set(E));
    for (let a = 0; a < alpha; a++) {
      b.push(...load(E), ...op.set(X + a));
      if (a < alpha - 1) b.push(...bump(E, src.inner));
    }
    for (let i = 0; i < rows; i++) b.push(...op.get(TMP), ...linear(L[i]!, X, ACC, fma), ...op.vstore((i * beta + c) * 16));
    if (c < beta - 1) b.push(...bump(O, src.outer));
  }
  b.push(...op.get(dst.base), ...op.set(O));
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < beta; c++) b.push(...op.get(TMP), ...op.vload((i * beta + c) * 16), ...op.set(X + c));
    b.push(...op.get(O), ...op.set(E));
    for (let j = 0; j < R.length; j++) {
      b.push(...store(E, i, j, linear(R[j]!, X, ACC, fma)));
      if (j < R.length - 1) b.push(...bump(E, dst.inner));
    }
    if (i < rows - 1) b.push(...bump(O, dst.outer));
  }
  return b;
}

/** i32 `local += other` (an i32 local). */
const bump = (local: number, other: number): number[] => [...op.get(local), ...op.get(other), ...op.add, ...op.set(local)];
/** i32 `local += constant`. */
const bumpBy = (local: number, k: number): number[] => [...op.get(local), ...op.i32(k), ...op.add, ...op.set(local)];
/** i32 `out = local · k`. */
const times = (local: number, k: number, out: number): number[] => [...op.get(local), ...op.i32(k), ...op.mul, ...op.set(out)];
/** Counts i32 local N down and loops while it is not zero (closes a block + loop). */
const loopWhile = (N: number): number[] => [
  ...op.get(N),
  ...op.i32(1),
  ...op.sub,
  ...op.tee(N),
  ...op.brIf(0),
  ...op.end,
  ...op.end,
];

/**
 * Tiles of pixels along a row → planes. `count` tiles: tile k's `side`×`side` window (rows rowBytes apart, pixels
 * pixBytes apart) at src + k·TILE·pixBytes; its 36 transformed values per channel to dst + k·ld + ξ·xiStride.
 * `chunks` groups of 4 channels (src and dst advance 16 bytes per chunk).
 * Parameters (src, rowBytes, pixBytes, chunks, dst, xiStride, ld, count, tmp).
 */
function pixelsToPlanes(name: string, M: number[][], fma: boolean): FunctionSpec {
  const [SRC, ROW, PIX, CHUNKS, DST, XI, LD, COUNT, TMP] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [N, K, S, Q, TSTEP, XIROW, E, O] = [9, 10, 11, 12, 13, 14, 15, 16];
  const X = 17;
  const b: number[] = [...times(PIX, TILE, TSTEP), ...times(XI, ALPHA, XIROW)];
  b.push(...op.get(COUNT), ...op.set(N));
  b.push(...op.block, ...op.loop); // tiles
  b.push(...op.get(SRC), ...op.set(S), ...op.get(DST), ...op.set(Q), ...op.get(CHUNKS), ...op.set(K));
  b.push(...op.block, ...op.loop); // channel chunks
  b.push(
    ...tileTransform(
      M,
      M,
      { base: S, outer: PIX, inner: ROW },
      { base: Q, outer: XIROW, inner: XI },
      { TMP, X, ACC: X + ALPHA, E, O },
      fma,
    ),
  );
  b.push(...bumpBy(S, 16), ...bumpBy(Q, 16));
  b.push(...loopWhile(K));
  b.push(...bump(SRC, TSTEP), ...bump(DST, LD));
  b.push(...loopWhile(N));
  return {
    name,
    params: 9,
    locals: [
      [8, I32],
      [ALPHA + 1, V128],
    ],
    body: b,
  };
}

/** `w4in`: input windows (6×6) → V = Bᵀ d B. See {@link pixelsToPlanes}. */
export const w4in = (fma: boolean): FunctionSpec => pixelsToPlanes('w4in', BT, fma);

/** `w4dy`: output-gradient tiles (4×4) → Z = A dY Aᵀ. See {@link pixelsToPlanes}. */
export const w4dy = (fma: boolean): FunctionSpec => pixelsToPlanes('w4dy', transpose(AT), fma);

/**
 * `w4out(m, xiStride, ld, chunks, out, rowBytes, pixBytes, count, bias, act, tmp)`: `count` tiles along a row, tile
 * k's planes at m + k·ld + ξ·xiStride → the 4×4 output tile Aᵀ M A at out + k·TILE·pixBytes (rows rowBytes apart),
 * + bias (one float per channel), then act 0 = linear, 1 = relu, 2 = relu6; `chunks` groups of 4 channels.
 */
export function w4out(fma: boolean): FunctionSpec {
  const [M, XI, LD, CHUNKS, OUT, ROW, PIX, COUNT, BIAS, ACT, TMP] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [N, K, S, Q, BP, TSTEP, XIROW, E, O] = [11, 12, 13, 14, 15, 16, 17, 18, 19];
  const X = 20;
  const BV = X + ALPHA + 1;
  const LO = BV + 1;
  const HI = BV + 2;
  const b: number[] = [...times(PIX, TILE, TSTEP), ...times(XI, ALPHA, XIROW)];
  // the clamp: relu [0, +inf), relu6 [0, 6], linear (-inf, +inf)
  b.push(...op.f32(-Infinity), ...op.f32x4Splat, ...op.set(LO), ...op.f32(Infinity), ...op.f32x4Splat, ...op.set(HI));
  b.push(...op.get(ACT), ...op.if, ...op.vzero, ...op.set(LO), ...op.end);
  b.push(...op.get(ACT), ...op.i32(2), ...op.eq, ...op.if, ...op.f32(6), ...op.f32x4Splat, ...op.set(HI), ...op.end);
  b.push(...op.get(COUNT), ...op.set(N));
  b.push(...op.block, ...op.loop); // tiles
  b.push(
    ...op.get(M),
    ...op.set(S),
    ...op.get(OUT),
    ...op.set(Q),
    ...op.get(BIAS),
    ...op.set(BP),
    ...op.get(CHUNKS),
    ...op.set(K),
  );
  b.push(...op.block, ...op.loop); // channel chunks
  b.push(...op.get(BP), ...op.vload(0), ...op.set(BV));
  const store = (at: number, _i: number, _j: number, value: number[]): number[] => [
    ...op.get(at),
    ...value,
    ...op.get(BV),
    ...op.f32x4Add,
    ...op.get(LO),
    ...op.f32x4Max,
    ...op.get(HI),
    ...op.f32x4Min,
    ...op.vstore(0),
  ];
  b.push(
    ...tileTransform(
      AT,
      AT,
      { base: S, outer: XI, inner: XIROW },
      { base: Q, outer: ROW, inner: PIX },
      { TMP, X, ACC: X + ALPHA, E, O },
      fma,
      store,
    ),
  );
  b.push(...bumpBy(S, 16), ...bumpBy(Q, 16), ...bumpBy(BP, 16));
  b.push(...loopWhile(K));
  b.push(...bump(M, LD), ...bump(OUT, TSTEP));
  b.push(...loopWhile(N));
  return {
    name: 'w4out',
    params: 11,
    locals: [
      [9, I32],
      [ALPHA + 4, V128],
    ],
    body: b,
  };
}

/**
 * Filters → U = G g Gᵀ for the GEMMs. `w4filt(src, tapBytes, panels, dst, planeBytes, panelBytes, tmp)`: the
 * forward packing, one input channel: src = &g[0][0][ci][0] (taps tapBytes apart), `panels` groups of 8 output
 * channels; plane ξ's row of panel p at dst + ξ·planeBytes + p·panelBytes (dst = the row of this input channel).
 */
export function w4filt(fma: boolean): FunctionSpec {
  const [SRC, TAP, PANELS, DST, PLANE, PANEL, TMP] = [0, 1, 2, 3, 4, 5, 6];
  const [S, Q, TAP3, PLANE6, E, O] = [7, 8, 9, 10, 11, 12];
  const X = 13;
  const b: number[] = [...times(TAP, 3, TAP3), ...times(PLANE, ALPHA, PLANE6)];
  b.push(...op.block, ...op.loop); // panels
  for (let half = 0; half < 2; half++) {
    b.push(
      ...op.get(SRC),
      ...op.i32(16 * half),
      ...op.add,
      ...op.set(S),
      ...op.get(DST),
      ...op.i32(16 * half),
      ...op.add,
      ...op.set(Q),
    );
    // g[i][j] at src + (3i + j)·tap: columns j (outer, tap), rows i (inner, 3·tap)
    b.push(
      ...tileTransform(
        G,
        G,
        { base: S, outer: TAP, inner: TAP3 },
        { base: Q, outer: PLANE6, inner: PLANE },
        { TMP, X, ACC: X + ALPHA, E, O },
        fma,
      ),
    );
  }
  b.push(...bumpBy(SRC, 32), ...bump(DST, PANEL));
  b.push(...loopWhile(PANELS));
  return {
    name: 'w4filt',
    params: 7,
    locals: [
      [6, I32],
      [ALPHA + 1, V128],
    ],
    body: b,
  };
}

/**
 * `w4filtT(src, tapBytes, cStride, count, dst, planeBytes, tmp)`: the input gradient's packing (the filter flipped,
 * its channels swapped) for 4 of the filter's input channels c..c+3 at once, gathered into the 4 lanes: src =
 * &g[2][2][c][0] (a negative tapBytes walks the taps backwards), the next channels cStride bytes apart; `count` of
 * the filter's output channels k, each a panel row: plane ξ of k at dst + ξ·planeBytes + k·32 (dst = &panel[c/8] +
 * (c mod 8)·4).
 */
export function w4filtT(fma: boolean): FunctionSpec {
  const [SRC, TAP, CS, COUNT, DST, PLANE, TMP] = [0, 1, 2, 3, 4, 5, 6];
  const [TAP3, PLANE6, E, O, CS2, CS3] = [7, 8, 9, 10, 11, 12];
  const X = 13;
  const G4 = X + ALPHA + 1;
  const b: number[] = [...times(TAP, 3, TAP3), ...times(PLANE, ALPHA, PLANE6), ...times(CS, 2, CS2), ...times(CS, 3, CS3)];
  const gather = (at: number): number[] => {
    const out: number[] = [...op.get(at), ...op.vzero, ...op.load32Lane(0), ...op.set(G4)];
    [CS, CS2, CS3].forEach((stride, lane) =>
      out.push(...op.get(at), ...op.get(stride), ...op.add, ...op.get(G4), ...op.load32Lane(lane + 1), ...op.set(G4)),
    );
    return [...out, ...op.get(G4)];
  };
  b.push(...op.block, ...op.loop); // the filter's output channels
  b.push(
    ...tileTransform(
      G,
      G,
      { base: SRC, outer: TAP, inner: TAP3 },
      { base: DST, outer: PLANE6, inner: PLANE },
      { TMP, X, ACC: X + ALPHA, E, O },
      fma,
      undefined,
      gather,
    ),
  );
  b.push(...bumpBy(SRC, 4), ...bumpBy(DST, 32));
  b.push(...loopWhile(COUNT));
  return {
    name: 'w4filtT',
    params: 7,
    locals: [
      [6, I32],
      [ALPHA + 2, V128],
    ],
    body: b,
  };
}

/**
 * `w4dw(s, sPlaneBytes, out, outPlaneBytes, count, tmp)`: the weight gradient dW = Gᵀ S G from the 36 planes of S
 * (sPlaneBytes apart) into the 9 taps of dW (outPlaneBytes apart), `count` vectors of 4 channel pairs.
 */
export function w4dw(fma: boolean): FunctionSpec {
  const [S, SPLANE, OUT, OPLANE, COUNT, TMP] = [0, 1, 2, 3, 4, 5];
  const [OPLANE3, SPLANE6, E, O] = [6, 7, 8, 9];
  const X = 10;
  const b: number[] = [...times(OPLANE, 3, OPLANE3), ...times(SPLANE, ALPHA, SPLANE6)];
  b.push(...op.block, ...op.loop);
  b.push(
    ...tileTransform(
      transpose(G),
      transpose(G),
      { base: S, outer: SPLANE, inner: SPLANE6 },
      { base: OUT, outer: OPLANE3, inner: OPLANE },
      { TMP, X, ACC: X + ALPHA, E, O },
      fma,
    ),
  );
  b.push(...bumpBy(S, 16), ...bumpBy(OUT, 16));
  b.push(...loopWhile(COUNT));
  return {
    name: 'w4dw',
    params: 6,
    locals: [
      [4, I32],
      [ALPHA + 1, V128],
    ],
    body: b,
  };
}

/** The F(4×4, 3×3) kernels of the engine's module. */
export const winogradKernels = (fma: boolean): FunctionSpec[] => [
  w4in(fma),
  w4dy(fma),
  w4out(fma),
  w4filt(fma),
  w4filtT(fma),
  w4dw(fma),
];

/**
 * The two micro-kernels of the SIMD convolution, emitted as WebAssembly at run time:
 *
 * - `igemm`: a 4×8 output tile of a convolution through an indirection buffer (XNNPACK's "igemm" scheme):
 *   for each filter tap, four input-row pointers (one per output pixel, padding pointing at a zero row), times a
 *   packed weight panel [taps][Ci][8]. Output = Σ_tap Σ_ci x·w, written to four output rows.
 * - `wgrad`: a 4×8 tile (4 input channels × 8 output channels) of a weight gradient, accumulated over a run of
 *   output pixels: dW += x[pixel, ci..ci+3]ᵀ · dy[pixel, co..co+7].
 *
 * Both use `f32x4.relaxed_madd` (one fused multiply-add per 4 lanes) where the engine supports relaxed SIMD,
 * else multiply + add; measured on this project's x86 machines, the FMA tile runs ~1.6× XNNPACK's convolution.
 */
import { buildModule, I32, op, V128, type FunctionSpec } from './wasm-emitter.js';
import { maxPoolGradKernel, reluGradKernel } from './layer-grad-kernels.js';
import { winogradKernels } from './winograd-transforms.js';

/** One multiply-accumulate into v128 local `acc`: acc = a·b + acc. */
function madd(fma: boolean, a: number, b: number, acc: number): number[] {
  return fma
    ? [...op.get(a), ...op.get(b), ...op.get(acc), ...op.f32x4Madd, ...op.set(acc)]
    : [...op.get(a), ...op.get(b), ...op.f32x4Mul, ...op.get(acc), ...op.f32x4Add, ...op.set(acc)];
}

/**
 * igemm(indir, taps, kc, w, c, ldc, bias, act, groups) — `groups` consecutive 4-row groups of one 8-column panel:
 * indirection [groups][taps][4] (byte pointers to input rows), packed panel `w` [taps][kc][8], output rows at
 * c + r·ldc (then c += 4·ldc per group); `bias` points at the panel's 8 biases (zeros for none); act 0 = linear,
 * 1 = relu, 2 = relu6. Byte addresses and strides; kc in floats.
 */
function igemm(fma: boolean, outIndirect = false): FunctionSpec {
  // outIndirect (igemmo): parameter C is an array of 4 output-row pointers per group, LDC unused
  const [INDIR, TAPS, KC, W, C, LDC, BIAS, ACT, GROUPS] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const A0 = 9; // a0..a3
  const T = 13;
  const K = 14;
  const WP = 15;
  const ACC = 16; // 8 accumulators: row r, half h -> ACC + 2r + h
  const B = 24; // b0, b1
  const AV = 26;
  const rowAddr = (r: number): number[] =>
    outIndirect ? [...op.get(C), ...op.load32(4 * r)] : [...op.get(C), ...op.get(LDC), ...op.i32(r), ...op.mul, ...op.add];
  const b: number[] = [];
  b.push(...op.block, ...op.loop); // groups
  b.push(...tileStart(BIAS, B, ACC), ...op.get(W), ...op.set(WP));
  b.push(...op.get(TAPS), ...op.set(T));
  b.push(...op.block, ...op.loop); // taps
  for (let r = 0; r < 4; r++) b.push(...op.get(INDIR), ...op.load32(4 * r), ...op.set(A0 + r));
  b.push(...op.get(INDIR), ...op.i32(16), ...op.add, ...op.set(INDIR));
  b.push(...tileProducts(fma, KC, K, WP, A0, B, AV, ACC));
  b.push(...op.get(T), ...op.i32(1), ...op.sub, ...op.tee(T), ...op.brIf(0), ...op.end, ...op.end);
  b.push(...tileFinish(ACT, AV, ACC, rowAddr));
  if (outIndirect) b.push(...op.get(C), ...op.i32(16), ...op.add, ...op.set(C));
  else b.push(...op.get(C), ...op.get(LDC), ...op.i32(4), ...op.mul, ...op.add, ...op.set(C));
  b.push(...op.get(GROUPS), ...op.i32(1), ...op.sub, ...op.tee(GROUPS), ...op.brIf(0), ...op.end, ...op.end);
  return {
    name: outIndirect ? 'igemmo' : 'igemm',
    params: 9,
    locals: [
      [7, I32],
      [11, V128],
    ],
    body: b,
  };
}

/**
 * gemm(a, lda, kc, w, c, ldc, bias, act, groups, panels) — C = A·W (+ bias, then act) for `panels` consecutive
 * 8-column panels, each over `groups` 4-row groups: A rows at a + r·lda (kc floats each), panel p of the packed
 * W [panels][kc][8] at w + p·kc·32, its output columns at c + p·32 (rows ldc apart), its 8 biases at bias + p·32.
 * The plain GEMM of 1×1 convolutions and of the Winograd planes: no indirection buffer.
 */
function gemm(fma: boolean): FunctionSpec {
  const [A, LDA, KC, W, C, LDC, BIAS, ACT, GROUPS, PANELS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const A0 = 10; // a0..a3
  const [K, WP, AP, CP, N] = [14, 15, 16, 17, 18];
  const ACC = 19;
  const B = 27;
  const AV = 29;
  const rowAddr = (r: number): number[] => [...op.get(CP), ...op.get(LDC), ...op.i32(r), ...op.mul, ...op.add];
  const b: number[] = [];
  b.push(...op.block, ...op.loop); // panels
  b.push(...op.get(A), ...op.set(AP), ...op.get(C), ...op.set(CP), ...op.get(GROUPS), ...op.set(N));
  b.push(...op.block, ...op.loop); // groups
  b.push(...tileStart(BIAS, B, ACC), ...op.get(W), ...op.set(WP));
  for (let r = 0; r < 4; r++) b.push(...op.get(AP), ...op.get(LDA), ...op.i32(r), ...op.mul, ...op.add, ...op.set(A0 + r));
  b.push(...tileProducts(fma, KC, K, WP, A0, B, AV, ACC));
  b.push(...tileFinish(ACT, AV, ACC, rowAddr));
  b.push(...op.get(AP), ...op.get(LDA), ...op.i32(4), ...op.mul, ...op.add, ...op.set(AP));
  b.push(...op.get(CP), ...op.get(LDC), ...op.i32(4), ...op.mul, ...op.add, ...op.set(CP));
  b.push(...op.get(N), ...op.i32(1), ...op.sub, ...op.tee(N), ...op.brIf(0), ...op.end, ...op.end);
  b.push(...op.get(W), ...op.get(KC), ...op.i32(32), ...op.mul, ...op.add, ...op.set(W));
  b.push(...op.get(C), ...op.i32(32), ...op.add, ...op.set(C), ...op.get(BIAS), ...op.i32(32), ...op.add, ...op.set(BIAS));
  b.push(...op.get(PANELS), ...op.i32(1), ...op.sub, ...op.tee(PANELS), ...op.brIf(0), ...op.end, ...op.end);
  return {
    name: 'gemm',
    params: 10,
    locals: [
      [9, I32],
      [11, V128],
    ],
    body: b,
  };
}

/** A 4×8 tile's accumulators (v128 locals ACC + 2r + h) set to the 8 biases at i32 local BIAS (via B, B + 1). */
function tileStart(BIAS: number, B: number, ACC: number): number[] {
  const b: number[] = [...op.get(BIAS), ...op.vload(0), ...op.set(B), ...op.get(BIAS), ...op.vload(16), ...op.set(B + 1)];
  for (let r = 0; r < 4; r++) for (let h = 0; h < 2; h++) b.push(...op.get(B + h), ...op.set(ACC + 2 * r + h));
  return b;
}

/**
 * A 4×8 tile's products over kc (i32 local KC) input channels: rows at i32 locals A0..A0 + 3 (advanced 4 bytes per
 * channel), packed weights at WP (advanced 32 bytes per channel); K counts.
 */
function tileProducts(fma: boolean, KC: number, K: number, WP: number, A0: number, B: number, AV: number, ACC: number): number[] {
  const b: number[] = [...op.get(KC), ...op.set(K)];
  b.push(...op.block, ...op.loop); // input channels
  b.push(...op.get(WP), ...op.vload(0), ...op.set(B), ...op.get(WP), ...op.vload(16), ...op.set(B + 1));
  for (let r = 0; r < 4; r++) {
    b.push(...op.get(A0 + r), ...op.vsplat32(0), ...op.set(AV));
    b.push(...madd(fma, AV, B, ACC + 2 * r), ...madd(fma, AV, B + 1, ACC + 2 * r + 1));
    b.push(...op.get(A0 + r), ...op.i32(4), ...op.add, ...op.set(A0 + r));
  }
  b.push(...op.get(WP), ...op.i32(32), ...op.add, ...op.set(WP));
  b.push(...op.get(K), ...op.i32(1), ...op.sub, ...op.tee(K), ...op.brIf(0), ...op.end, ...op.end);
  return b;
}

/** A 4×8 tile's activation (i32 local ACT: 0 linear, 1 relu, 2 relu6) and stores to the rows at `rowAddr(r)`. */
function tileFinish(ACT: number, AV: number, ACC: number, rowAddr: (r: number) => number[]): number[] {
  const b: number[] = [];
  // activation: relu clamps below at 0, relu6 also above at 6
  b.push(...op.get(ACT), ...op.if);
  for (let i = 0; i < 8; i++) b.push(...op.get(ACC + i), ...op.vzero, ...op.f32x4Max, ...op.set(ACC + i));
  b.push(...op.get(ACT), ...op.i32(2), ...op.eq, ...op.if);
  b.push(...op.f32(6), ...op.f32x4Splat, ...op.set(AV));
  for (let i = 0; i < 8; i++) b.push(...op.get(ACC + i), ...op.get(AV), ...op.f32x4Min, ...op.set(ACC + i));
  b.push(...op.end, ...op.end);
  for (let r = 0; r < 4; r++) for (let h = 0; h < 2; h++) b.push(...rowAddr(r), ...op.get(ACC + 2 * r + h), ...op.vstore(16 * h));
  return b;
}

/**
 * wgrad(indir, istride, count, ciOff, dy, ldy, out, ldo, tiles) — `tiles` consecutive 4×8 tiles (input channels
 * ci..ci+3 × output channels, 8 more per tile) of a weight gradient, accumulated in place at `out` (rows ldo
 * apart; out and dy advance 32 bytes per tile) over `count` pixels: the pixel's input row is
 * `*indir + ciOff` (indir advancing istride bytes per pixel), its dy row at dy (advancing ldy bytes).
 */
function wgrad(fma: boolean, fresh = false): FunctionSpec {
  // fresh (wgrad0): the tiles start from zero instead of the values at `out`, which they overwrite
  const [INDIR, ISTRIDE, COUNT, CIOFF, DY, LDY, OUT, LDO, TILES] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const P = 9;
  const IP = 10;
  const DP = 11;
  const N = 12;
  const ACC = 13;
  const B = 21;
  const AV = 23;
  const acc = (r: number, h: number): number => ACC + 2 * r + h;
  const rowAddr = (r: number): number[] => [...op.get(OUT), ...op.get(LDO), ...op.i32(r), ...op.mul, ...op.add];
  const b: number[] = [];
  b.push(...op.block, ...op.loop); // tiles
  for (let r = 0; r < 4; r++)
    for (let h = 0; h < 2; h++) b.push(...(fresh ? op.vzero : [...rowAddr(r), ...op.vload(16 * h)]), ...op.set(acc(r, h)));
  b.push(...op.get(INDIR), ...op.set(IP), ...op.get(DY), ...op.set(DP), ...op.get(COUNT), ...op.set(N));
  b.push(...op.block, ...op.loop); // pixels
  b.push(...op.get(IP), ...op.load32(0), ...op.get(CIOFF), ...op.add, ...op.set(P));
  b.push(...op.get(IP), ...op.get(ISTRIDE), ...op.add, ...op.set(IP));
  b.push(...op.get(DP), ...op.vload(0), ...op.set(B), ...op.get(DP), ...op.vload(16), ...op.set(B + 1));
  b.push(...op.get(DP), ...op.get(LDY), ...op.add, ...op.set(DP));
  for (let r = 0; r < 4; r++) {
    b.push(...op.get(P), ...op.vsplat32(4 * r), ...op.set(AV));
    b.push(...madd(fma, AV, B, acc(r, 0)), ...madd(fma, AV, B + 1, acc(r, 1)));
  }
  b.push(...op.get(N), ...op.i32(1), ...op.sub, ...op.tee(N), ...op.brIf(0), ...op.end, ...op.end);
  for (let r = 0; r < 4; r++) for (let h = 0; h < 2; h++) b.push(...rowAddr(r), ...op.get(acc(r, h)), ...op.vstore(16 * h));
  b.push(...op.get(DY), ...op.i32(32), ...op.add, ...op.set(DY), ...op.get(OUT), ...op.i32(32), ...op.add, ...op.set(OUT));
  b.push(...op.get(TILES), ...op.i32(1), ...op.sub, ...op.tee(TILES), ...op.brIf(0), ...op.end, ...op.end);
  return {
    name: fresh ? 'wgrad0' : 'wgrad',
    params: 9,
    locals: [
      [4, I32],
      [11, V128],
    ],
    body: b,
  };
}

/** Shared frame of the per-channel kernels: for each 8-channel chunk, a loop over `rows` rows `ld` bytes apart. */
function chunkLoop(
  name: string,
  params: number,
  vlocals: number,
  chunkParams: number[],
  [LD, ROWS, CHUNKS]: [number, number, number],
  setup: number[],
  perRow: number[],
  finish: number[],
  firstLocal: number,
): FunctionSpec {
  // locals: firstLocal: row counter, +1..: row pointers for each chunk param
  const N = firstLocal;
  const ptr = (i: number): number => firstLocal + 1 + i;
  const b: number[] = [];
  b.push(...op.block, ...op.loop); // chunks
  b.push(...setup);
  chunkParams.forEach((p, i) => b.push(...op.get(p), ...op.set(ptr(i))));
  b.push(...op.get(ROWS), ...op.set(N));
  b.push(...op.block, ...op.loop); // rows
  b.push(...perRow);
  chunkParams.forEach((_, i) => b.push(...op.get(ptr(i)), ...op.get(LD), ...op.add, ...op.set(ptr(i))));
  b.push(...op.get(N), ...op.i32(1), ...op.sub, ...op.tee(N), ...op.brIf(0), ...op.end, ...op.end);
  b.push(...finish);
  chunkParams.forEach((p) => b.push(...op.get(p), ...op.i32(32), ...op.add, ...op.set(p)));
  b.push(...op.get(CHUNKS), ...op.i32(1), ...op.sub, ...op.tee(CHUNKS), ...op.brIf(0), ...op.end, ...op.end);
  return {
    name,
    params,
    locals: [
      [1 + chunkParams.length, I32],
      [vlocals, V128],
    ],
    body: b,
  };
}

/**
 * chsum(x, ld, rows, chunks, shift, s, q): per channel, s += Σ (x − shift), q += Σ (x − shift)² over `rows`
 * rows (`ld` bytes apart), 8 channels per chunk; shift, s and q are per-channel arrays advancing with the chunks.
 */
function chsum(fma: boolean): FunctionSpec {
  const [X, LD, ROWS, CHUNKS, SHIFT, S, Q] = [0, 1, 2, 3, 4, 5, 6];
  // i32 locals: 7 row counter, 8 x row; v128 locals 9..16: s0 s1 q0 q1 sh0 sh1 v0 v1
  const [S0, Q0, SH0, V0] = [9, 11, 13, 15];
  const setup: number[] = [];
  for (let h = 0; h < 2; h++) {
    setup.push(...op.get(S), ...op.vload(16 * h), ...op.set(S0 + h), ...op.get(Q), ...op.vload(16 * h), ...op.set(Q0 + h));
    setup.push(...op.get(SHIFT), ...op.vload(16 * h), ...op.set(SH0 + h));
  }
  const perRow: number[] = [];
  for (let h = 0; h < 2; h++) {
    perRow.push(...op.get(8), ...op.vload(16 * h), ...op.get(SH0 + h), ...op.f32x4Sub, ...op.set(V0 + h));
    perRow.push(...op.get(S0 + h), ...op.get(V0 + h), ...op.f32x4Add, ...op.set(S0 + h));
    perRow.push(...madd(fma, V0 + h, V0 + h, Q0 + h));
  }
  const finish: number[] = [];
  for (let h = 0; h < 2; h++) {
    finish.push(...op.get(S), ...op.get(S0 + h), ...op.vstore(16 * h), ...op.get(Q), ...op.get(Q0 + h), ...op.vstore(16 * h));
  }
  // chunk params advanced by 32 bytes: x, shift, s, q
  return chunkLoop(
    'chsum',
    7,
    8,
    [X],
    [LD, ROWS, CHUNKS],
    setup,
    perRow,
    [
      ...finish,
      ...op.get(SHIFT),
      ...op.i32(32),
      ...op.add,
      ...op.set(SHIFT),
      ...op.get(S),
      ...op.i32(32),
      ...op.add,
      ...op.set(S),
      ...op.get(Q),
      ...op.i32(32),
      ...op.add,
      ...op.set(Q),
    ],
    7,
  );
}

/** chsum2(dy, x, ld, rows, chunks, s1, s2): per channel s1 += Σ dy, s2 += Σ dy·x (same frame as chsum). */
function chsum2(fma: boolean): FunctionSpec {
  const [DY, X, LD, ROWS, CHUNKS, S1, S2] = [0, 1, 2, 3, 4, 5, 6];
  // i32 locals: 7 row counter, 8 dy row, 9 x row; v128: 10 a0 11 a1 12 b0 13 b1 14 d0 15 d1 16 x0 17 x1
  const [A0, B0, D0, X0] = [10, 12, 14, 16];
  const setup: number[] = [];
  for (let h = 0; h < 2; h++) {
    setup.push(...op.get(S1), ...op.vload(16 * h), ...op.set(A0 + h), ...op.get(S2), ...op.vload(16 * h), ...op.set(B0 + h));
  }
  const perRow: number[] = [];
  for (let h = 0; h < 2; h++) {
    perRow.push(...op.get(8), ...op.vload(16 * h), ...op.set(D0 + h), ...op.get(9), ...op.vload(16 * h), ...op.set(X0 + h));
    perRow.push(...op.get(A0 + h), ...op.get(D0 + h), ...op.f32x4Add, ...op.set(A0 + h));
    perRow.push(...madd(fma, D0 + h, X0 + h, B0 + h));
  }
  const finish: number[] = [];
  for (let h = 0; h < 2; h++) {
    finish.push(...op.get(S1), ...op.get(A0 + h), ...op.vstore(16 * h), ...op.get(S2), ...op.get(B0 + h), ...op.vstore(16 * h));
  }
  finish.push(...op.get(S1), ...op.i32(32), ...op.add, ...op.set(S1), ...op.get(S2), ...op.i32(32), ...op.add, ...op.set(S2));
  return chunkLoop('chsum2', 7, 8, [DY, X], [LD, ROWS, CHUNKS], setup, perRow, finish, 7);
}

/** affine(dy, x, out, ld, rows, chunks, a, b, c): out = a·dy + b·x + c per channel (same frame). */
function affine(fma: boolean): FunctionSpec {
  const [DY, X, OUT, LD, ROWS, CHUNKS, A, B, C] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  // i32 locals: 9 counter, 10 dy row, 11 x row, 12 out row; v128: 13 a0 14 a1 15 b0 16 b1 17 c0 18 c1 19 t
  const [A0, B0, C0, TV] = [13, 15, 17, 19];
  const setup: number[] = [];
  for (let h = 0; h < 2; h++) {
    setup.push(...op.get(A), ...op.vload(16 * h), ...op.set(A0 + h), ...op.get(B), ...op.vload(16 * h), ...op.set(B0 + h));
    setup.push(...op.get(C), ...op.vload(16 * h), ...op.set(C0 + h));
  }
  const perRow: number[] = [];
  for (let h = 0; h < 2; h++) {
    // t = c + a·dy ; t = t + b·x ; store
    perRow.push(...op.get(C0 + h), ...op.set(TV));
    perRow.push(...op.get(10), ...op.vload(16 * h), ...op.set(TV + 1));
    perRow.push(...madd(fma, A0 + h, TV + 1, TV));
    perRow.push(...op.get(11), ...op.vload(16 * h), ...op.set(TV + 1));
    perRow.push(...madd(fma, B0 + h, TV + 1, TV));
    perRow.push(...op.get(12), ...op.get(TV), ...op.vstore(16 * h));
  }
  const finish = [
    ...op.get(A),
    ...op.i32(32),
    ...op.add,
    ...op.set(A),
    ...op.get(B),
    ...op.i32(32),
    ...op.add,
    ...op.set(B),
    ...op.get(C),
    ...op.i32(32),
    ...op.add,
    ...op.set(C),
  ];
  return chunkLoop('affine', 9, 8, [DY, X, OUT], [LD, ROWS, CHUNKS], setup, perRow, finish, 9);
}

/** The exported kernels. */
export interface ConvKernels {
  igemm(
    indir: number,
    taps: number,
    kc: number,
    w: number,
    c: number,
    ldc: number,
    bias: number,
    act: number,
    groups: number,
  ): void;
  /** igemm with the output rows taken from an array of 4 pointers per group (`outs`; `ldc` unused). */
  igemmo(
    indir: number,
    taps: number,
    kc: number,
    w: number,
    outs: number,
    ldc: number,
    bias: number,
    act: number,
    groups: number,
  ): void;
  /** Plain GEMM over `panels` 8-column panels (see conv-kernels.ts). */
  gemm(
    a: number,
    lda: number,
    kc: number,
    w: number,
    c: number,
    ldc: number,
    bias: number,
    act: number,
    groups: number,
    panels: number,
  ): void;
  wgrad(
    indir: number,
    istride: number,
    count: number,
    ciOff: number,
    dy: number,
    ldy: number,
    out: number,
    ldo: number,
    tiles: number,
  ): void;
  /** {@link wgrad} starting from zero: `out` is overwritten, not accumulated into. */
  wgrad0(
    indir: number,
    istride: number,
    count: number,
    ciOff: number,
    dy: number,
    ldy: number,
    out: number,
    ldo: number,
    tiles: number,
  ): void;
  chsum(x: number, ld: number, rows: number, chunks: number, shift: number, s: number, q: number): void;
  chsum2(dy: number, x: number, ld: number, rows: number, chunks: number, s1: number, s2: number): void;
  affine(dy: number, x: number, out: number, ld: number, rows: number, chunks: number, a: number, b: number, c: number): void;
  /** F(4×4, 3×3) input transform of a row of tiles (see winograd-transforms.ts). */
  w4in(
    src: number,
    rowBytes: number,
    pixBytes: number,
    chunks: number,
    dst: number,
    xiStride: number,
    ld: number,
    count: number,
    tmp: number,
  ): void;
  /** F(4×4, 3×3) output-gradient transform of a row of tiles. */
  w4dy(
    src: number,
    rowBytes: number,
    pixBytes: number,
    chunks: number,
    dst: number,
    xiStride: number,
    ld: number,
    count: number,
    tmp: number,
  ): void;
  /** F(4×4, 3×3) output transform of a row of tiles, + bias, then activation. */
  w4out(
    m: number,
    xiStride: number,
    ld: number,
    chunks: number,
    out: number,
    rowBytes: number,
    pixBytes: number,
    count: number,
    bias: number,
    act: number,
    tmp: number,
  ): void;
  /** F(4×4, 3×3) filter transform of one input channel, packed for the forward GEMM. */
  w4filt(src: number, tapBytes: number, panels: number, dst: number, planeBytes: number, panelBytes: number, tmp: number): void;
  /** F(4×4, 3×3) filter transform of one input channel, flipped and transposed for the input gradient's GEMM. */
  w4filtT(src: number, tapBytes: number, cStride: number, count: number, dst: number, planeBytes: number, tmp: number): void;
  /** F(4×4, 3×3) weight gradient dW = Gᵀ S G of `count` 4-channel-pair vectors. */
  w4dw(s: number, sPlaneBytes: number, out: number, outPlaneBytes: number, count: number, tmp: number): void;
  /** Max pool gradient of one output pixel (see layer-grad-kernels.ts). */
  mpgrad(x: number, dx: number, dy: number, rowBytes: number, colBytes: number, rows: number, cols: number, chunks: number): void;
  /** ReLU's gradient over n4 groups of 4 floats (see layer-grad-kernels.ts). */
  relugrad(dy: number, x: number, out: number, n4: number): void;
  /** Whether the fused multiply-add (relaxed SIMD) variant is running. */
  fma: boolean;
}

/** The module bytes, with or without relaxed-SIMD fused multiply-add. */
export function convKernelsModule(fma: boolean, sharedMemory: boolean): Uint8Array {
  return buildModule(
    [
      igemm(fma),
      igemm(fma, true),
      gemm(fma),
      wgrad(fma),
      wgrad(fma, true),
      chsum(fma),
      chsum2(fma),
      affine(fma),
      ...winogradKernels(fma),
      maxPoolGradKernel(),
      reluGradKernel(),
    ],
    sharedMemory,
  );
}

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let simd: boolean | undefined;

/** True when this JS engine runs WebAssembly SIMD (fixed-width), the kernels' minimum. */
export function simdSupported(): boolean {
  simd ??= wasmApi !== undefined && wasmApi.validate(convKernelsModule(false, false));
  return simd;
}

/** True when relaxed SIMD (fused multiply-add) validates here (Node ≥ 22, or Node 20 with the V8 flag). */
export function relaxedSimdSupported(): boolean {
  return wasmApi !== undefined && wasmApi.validate(convKernelsModule(true, false));
}

/** Instantiates the kernels over `memory` (the tfjs wasm backend's heap). */
export function instantiateConvKernels(memory: { buffer: ArrayBuffer | SharedArrayBuffer }): ConvKernels {
  if (!wasmApi) throw new Error('WebAssembly is not available');
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const fma = relaxedSimdSupported();
  const module = new wasmApi.Module(convKernelsModule(fma, shared));
  const instance = new wasmApi.Instance(module, { env: { memory } });
  const exp = instance.exports as unknown as Omit<ConvKernels, 'fma'>;
  return {
    igemm: exp.igemm,
    igemmo: exp.igemmo,
    gemm: exp.gemm,
    wgrad: exp.wgrad,
    wgrad0: exp.wgrad0,
    chsum: exp.chsum,
    chsum2: exp.chsum2,
    affine: exp.affine,
    w4in: exp.w4in,
    w4dy: exp.w4dy,
    w4out: exp.w4out,
    w4filt: exp.w4filt,
    w4filtT: exp.w4filtT,
    w4dw: exp.w4dw,
    mpgrad: exp.mpgrad,
    relugrad: exp.relugrad,
    fma,
  };
}

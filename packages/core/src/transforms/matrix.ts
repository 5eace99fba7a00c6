/**
 * 3x3 matrices (row-major arrays of 9) for the per-image affine/projective maps of the augmentation pipeline.
 * Tiny, per-image arithmetic in JS: pixels are only ever touched by one batched tensor op.
 */

/** A row-major 3x3 matrix. */
export type Mat3 = [number, number, number, number, number, number, number, number, number];

/** The identity matrix. */
export function identity3(): Mat3 {
  return [1, 0, 0, 0, 1, 0, 0, 0, 1];
}

/** Matrix product a·b. */
export function matMul3(a: Mat3, b: Mat3): Mat3 {
  const r = new Array<number>(9) as Mat3;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      r[i * 3 + j] = a[i * 3]! * b[j]! + a[i * 3 + 1]! * b[3 + j]! + a[i * 3 + 2]! * b[6 + j]!;
    }
  }
  return r;
}

/** Product of several matrices, left to right: `chain(a, b, c) = a·b·c` (c applies to points first). */
export function chain(...ms: Mat3[]): Mat3 {
  return ms.reduce((acc, m) => matMul3(acc, m), identity3());
}

/** Applies a projective matrix to a 2-D point. */
export function applyMat3(m: Mat3, x: number, y: number): [number, number] {
  const z = m[6] * x + m[7] * y + m[8];
  return [(m[0] * x + m[1] * y + m[2]) / z, (m[3] * x + m[4] * y + m[5]) / z];
}

/** Solves the linear system A·x = b (n x n, row-major) by Gaussian elimination with partial pivoting. */
export function solveLinear(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (Math.abs(m[p]![c]!) < 1e-12) throw new Error('singular system in perspective warp');
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

/**
 * The homography mapping each of the 4 `from` points onto the matching `to` point (fast.ai `_find_coeffs`,
 * which returns the map from its second argument's points to its first's).
 */
export function homography(from: [number, number][], to: [number, number][]): Mat3 {
  const a: number[][] = [];
  const b: number[] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i]!;
    const [u, v] = to[i]!;
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y]);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y]);
    b.push(u, v);
  }
  const c = solveLinear(a, b);
  return [c[0]!, c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[7]!, 1];
}

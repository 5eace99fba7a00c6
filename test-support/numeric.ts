/** Numeric comparisons shared by the kernel tests. */

/** Largest |actual − expected| over the largest |expected|: the error relative to the values' scale. */
export function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}

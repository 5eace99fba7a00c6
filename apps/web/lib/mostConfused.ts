/** fast.ai's `most_confused(min_val)`: off-diagonal cells of the confusion matrix, largest first. */
export function mostConfused(
  classes: readonly string[],
  confusion: readonly (readonly number[])[],
  minVal = 1,
): [actual: string, predicted: string, count: number][] {
  const out: [string, string, number][] = [];
  confusion.forEach((row, a) =>
    row.forEach((n, p) => {
      if (a !== p && n >= minVal) out.push([classes[a] ?? String(a), classes[p] ?? String(p), n]);
    }),
  );
  // Stable: ties keep matrix order, as fast.ai's sorted() does.
  return out.sort((x, y) => y[2] - x[2]);
}

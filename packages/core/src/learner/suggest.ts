/**
 * Learning-rate suggestions from an lr-finder curve (fast.ai v1 `Recorder.plot(suggestion=True)`, v2 `valley`).
 */

/** Suggested learning rates; `undefined` when the curve is too short to tell. */
export interface LrSuggestions {
  /** Where the smoothed loss falls fastest (fast.ai v1 "min numerical gradient", v2 `steep`). */
  lrSteep: number | undefined;
  /** The learning rate of the minimum loss divided by 10 (fast.ai `minimum`). */
  lrMin: number | undefined;
  /** fast.ai v2's default `valley`: a point in the longest stretch of decreasing loss, about half-way down it. */
  lrValley: number | undefined;
}

/** numpy's `gradient` on unit spacing: central differences inside, one-sided at the ends. */
export function numericalGradient(v: readonly number[]): number[] {
  const n = v.length;
  if (n < 2) return n === 1 ? [0] : [];
  return v.map((_, i) => (i === 0 ? v[1]! - v[0]! : i === n - 1 ? v[n - 1]! - v[n - 2]! : (v[i + 1]! - v[i - 1]!) / 2));
}

/**
 * Suggestions from the lr-finder curve. As fast.ai v1, the first 10 and last 5 points are skipped (v2: the first
 * `numIt/10`); points after a NaN loss are dropped.
 */
export function lrSuggestions(lrs: readonly number[], losses: readonly number[], numIt = 100): LrSuggestions {
  const cut = losses.findIndex((l) => !Number.isFinite(l));
  const end = cut >= 0 ? cut : losses.length;
  const skipStart = Math.min(10, Math.floor(numIt / 10));
  const l = losses.slice(skipStart, Math.max(skipStart, end - 5));
  const r = lrs.slice(skipStart, Math.max(skipStart, end - 5));
  if (l.length < 2) return { lrSteep: undefined, lrMin: undefined, lrValley: undefined };
  const g = numericalGradient(l);
  let mg = 0;
  g.forEach((v, i) => {
    if (v < g[mg]!) mg = i;
  });
  let ml = 0;
  l.forEach((v, i) => {
    if (v < l[ml]!) ml = i;
  });
  return { lrSteep: r[mg], lrMin: r[ml]! / 10, lrValley: valley(r, l) };
}

/** fast.ai v2's `valley`: the longest decreasing subsequence of losses; the point a bit past its first third. */
function valley(lrs: readonly number[], losses: readonly number[]): number {
  const n = losses.length;
  const lds = new Array<number>(n).fill(1);
  let maxStart = 0;
  let maxEnd = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (losses[i]! < losses[j]! && lds[i]! < lds[j]! + 1) lds[i] = lds[j]! + 1;
      if (lds[maxEnd]! < lds[i]!) {
        maxEnd = i;
        maxStart = maxEnd - lds[maxEnd]!;
      }
    }
  }
  const sections = (maxEnd - maxStart) / 3;
  const idx = maxStart + Math.floor(sections) + Math.floor(sections / 2);
  return lrs[Math.min(n - 1, Math.max(0, idx))]!;
}

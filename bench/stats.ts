/** Summary statistics and table formatting of the benchmark's repeated measurements. */

/** Median, minimum and maximum of repeated measurements. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** The spread of `values` (null when there are none). */
export function spread(values: readonly number[]): Spread | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]!, n: v.length };
}

/** Rounds for the JSON line. */
export const round = (v: number, digits = 3): number => +v.toFixed(digits);

/** `median (min-max)` with `d` decimals, or `n/a`. */
export function fmtSpread(s: Spread | null, d = 2): string {
  if (!s) return 'n/a';
  return s.n === 1 ? s.median.toFixed(d) : `${s.median.toFixed(d)} (${s.min.toFixed(d)}-${s.max.toFixed(d)})`;
}

/** The spread rounded for the JSON line. */
export function jsonSpread(s: Spread | null, digits = 3): { median: number; min: number; max: number } | null {
  return s ? { median: round(s.median, digits), min: round(s.min, digits), max: round(s.max, digits) } : null;
}

/** A text table: first column left-aligned, the others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]! + 2))).join('');
  return [line(header), ...rows.map(line)].join('\n');
}

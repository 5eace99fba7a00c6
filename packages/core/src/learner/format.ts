/**
 * Text formatting of fast.ai's epoch table (fastprogress console output) and of durations.
 */

/** `mm:ss` (or `h:mm:ss`) like fastprogress's `format_time`. */
export function formatTime(seconds: number): string {
  const t = Math.round(seconds);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h !== 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * A table cell as fast.ai's Recorder writes it: integers (the epoch; pass `integer`) as is, other numbers with
 * 6 decimals (also when they happen to be whole, like an accuracy of 1), missing values as `#na#`.
 */
export function formatStat(v: number | undefined | null, integer = false): string {
  if (v === undefined || v === null) return '#na#';
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (integer) return String(Math.trunc(v));
  return v.toFixed(6);
}

/** The header line: names padded to 8 characters, joined by two spaces (fastprogress `write(table=True)`, trailing blanks trimmed). */
export function formatTableHeader(names: readonly string[]): string {
  return names
    .map((n) => (n.length < 8 ? n.padEnd(8) : n))
    .join('  ')
    .trimEnd();
}

/** A row aligned under {@link formatTableHeader}: each cell padded to its padded column name plus two spaces. */
export function formatTableRow(names: readonly string[], cells: readonly string[]): string {
  return cells
    .map((c, i) => {
      const name = names[i] ?? '';
      const width = Math.max(name.length, 8);
      return c + ' '.repeat(Math.max(0, 2 + width - c.length));
    })
    .join('')
    .trimEnd();
}

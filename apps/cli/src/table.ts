/**
 * fast.ai's per-epoch table, as fastprogress prints it on a console:
 *
 * ```
 * epoch     train_loss  valid_loss  accuracy  error_rate  time
 * 0         0.785345    0.114417    0.969697  0.030303    00:25
 * ```
 * Column names are padded to 8 characters and joined by two spaces; each value is padded to its column.
 */

/** Formats seconds as fast.ai does: `mm:ss` (and `h:mm:ss` past an hour). */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const p = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${p(m)}:${p(s)}` : `${p(m)}:${p(s)}`;
}

/** A value cell: numbers with 6 decimals (as fast.ai), `#na#` for a missing value. */
export function formatCell(value: number | string | undefined): string {
  if (value === undefined || (typeof value === 'number' && Number.isNaN(value))) return '#na#';
  return typeof value === 'number' ? value.toFixed(6) : value;
}

/** Builds the header and rows of an epoch table with the given column names. */
export class EpochTable {
  private readonly names: string[];

  constructor(columns: readonly string[]) {
    this.names = columns.map((c) => (c.length < 8 ? c.padEnd(8) : c));
  }

  /** The header line. */
  header(): string {
    return this.names.join('  ').trimEnd();
  }

  /** One row; `cells` in column order (already formatted strings, or numbers / undefined). */
  row(cells: ReadonlyArray<string | number | undefined>): string {
    let text = '';
    this.names.forEach((name, i) => {
      const cell = i === 0 && typeof cells[0] === 'number' ? String(cells[0]) : formatCell(cells[i]);
      text += cell.padEnd(name.length + 2);
    });
    return text.trimEnd();
  }
}

/**
 * Tolerant parsers for the run files. A run that is still being written may end in a partial line; a file
 * written by an older or newer CLI may carry fields we do not know. Bad lines are skipped and reported as
 * warnings, never thrown at the page.
 */
import { parse } from 'csv-parse/sync';

/** A finite number or null. */
export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A string or null. */
export function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** A plain object or null. */
export function obj(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/**
 * Parses JSON Lines. A final line without its newline is ignored when the file may still be growing
 * (`growing`), since the writer has not finished it. Returns the parsed objects and how many lines were bad.
 */
export function parseJsonl(text: string, growing: boolean): { rows: Record<string, unknown>[]; bad: number } {
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  if (!growing && last.trim() !== '') lines.push(last);
  const rows: Record<string, unknown>[] = [];
  let bad = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    try {
      const o = obj(JSON.parse(line));
      if (o) rows.push(o);
      else bad++;
    } catch {
      bad++;
    }
  }
  return { rows, bad };
}

/**
 * Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF; csv-parse). Returns rows of fields. Tolerant: a
 * file still being written may end inside a quoted field; its last, partial record is dropped.
 */
export function parseCsv(text: string): string[][] {
  const options = { relax_column_count: true, relax_quotes: true, skip_empty_lines: true, record_delimiter: ['\r\n', '\n', '\r'] };
  try {
    return parse(text, options) as string[][];
  } catch {
    const end = text.lastIndexOf('\n');
    if (end < 0) return [];
    try {
      return parse(text.slice(0, end + 1), options) as string[][];
    } catch {
      return [];
    }
  }
}

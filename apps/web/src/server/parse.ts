/**
 * Tolerant parsers for the run files: the JSON and JSON Lines readers are the run format's (`@fastts/core/runs`);
 * CSV through csv-parse (the same library the CLI writes it with). Bad lines are skipped, never thrown.
 */
import { parse } from 'csv-parse/sync';

export { num, str, obj, parseJsonl } from '@fastts/core/runs';

/**
 * Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF; csv-parse). Returns rows of fields. Tolerant: a
 * file still being written may end inside a quoted field; its last, partial record is dropped.
 */
export function parseCsv(text: string): string[][] {
  const options = {
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    record_delimiter: ['\r\n', '\n', '\r'],
  };
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

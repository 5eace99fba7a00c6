/**
 * CSV for the files the CLI writes (`test_predictions.csv`, `predict --csv`) and reads back, on csv-stringify and
 * csv-parse (RFC 4180: fields holding commas, quotes or newlines are quoted, quotes doubled).
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

/** One CSV field, quoted when it holds a comma, quote, CR or LF. */
export function csvField(value: string | number): string {
  return csvRow([value]);
}

/** One CSV line (no trailing newline). */
export function csvRow(values: ReadonlyArray<string | number>): string {
  return stringify([[...values]], { record_delimiter: '\n' }).replace(/\n$/, '');
}

/** Parses CSV text into rows of fields (quoted fields may hold commas, quotes and newlines; empty lines skipped). */
export function parseCsv(text: string): string[][] {
  return parse(text, { relax_column_count: true, skip_empty_lines: true, record_delimiter: ['\r\n', '\n', '\r'] }) as string[][];
}

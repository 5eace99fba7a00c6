/**
 * Tolerant parsers for the run files. A run that is still being written may end in a partial line; a file
 * written by an older or newer CLI may carry fields we do not know. Bad lines are skipped and reported as
 * warnings, never thrown at the page.
 */

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

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF). Returns rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

/** Writing the run format: the text of each file (the platform writes it: atomically for JSON, appending for lines). */
import { RUN_FORMAT_VERSION, type RunConfig, type StatusFile } from './format.js';

/** `config.json`'s text: the config with the format version. */
export function runConfigText(config: RunConfig): string {
  return `${JSON.stringify({ ...config, formatVersion: RUN_FORMAT_VERSION }, null, 2)}\n`;
}

/** `status.json`'s text. */
export function statusText(status: StatusFile): string {
  return `${JSON.stringify(status, null, 2)}\n`;
}

/** One JSON Lines line (with its newline) of `metrics.jsonl` / `batches.jsonl`. */
export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/** Many JSON Lines lines. */
export function jsonLines(values: readonly unknown[]): string {
  return values.map(jsonLine).join('');
}

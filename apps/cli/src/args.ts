/**
 * Parsers for option values (`--lr 1e-3`, `--lr 1e-5:3e-4`, `--valid-pct 0.2`, `--bs 64`, ...). Each throws
 * commander's `InvalidArgumentError` with a readable reason, which the CLI reports as a usage error (exit 2).
 */
import { InvalidArgumentError } from 'commander';

/**
 * A learning rate as typed on the command line: one number for every layer group, or fast.ai's `slice`:
 * `{ hi }` (`:hi`, i.e. `slice(hi)`: hi/10 for every group but the last) or `{ lo, hi }` (`lo:hi`, i.e.
 * `slice(lo, hi)`: geometric spacing across the layer groups).
 */
export type LrSpec = number | { lo?: number; hi: number };

function parseNumber(text: string): number {
  const trimmed = text.trim();
  // Number('') is 0 and Number('0x10') is 16: accept only decimal / scientific notation.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed)) return Number.NaN;
  return Number(trimmed);
}

/** Parses `--lr`: `3e-3` (a number), `1e-5:3e-4` (slice(lo, hi)) or `:3e-3` (slice(hi)). */
export function parseLr(text: string): LrSpec {
  const parts = text.split(':');
  const bad = (why: string): never => {
    throw new InvalidArgumentError(`${why}; give a number such as 3e-3, or a range lo:hi such as 1e-5:3e-4.`);
  };
  if (parts.length > 2) bad(`'${text}' has more than one ':'`);
  if (parts.length === 1) {
    const lr = parseNumber(text);
    if (!Number.isFinite(lr) || lr <= 0) bad(`'${text}' is not a positive number`);
    return lr;
  }
  const [loText, hiText] = parts as [string, string];
  const hi = parseNumber(hiText);
  if (!Number.isFinite(hi) || hi <= 0) bad(`the upper learning rate '${hiText}' is not a positive number`);
  if (loText.trim() === '') return { hi };
  const lo = parseNumber(loText);
  if (!Number.isFinite(lo) || lo <= 0) bad(`the lower learning rate '${loText}' is not a positive number`);
  if (lo > hi) bad(`the range ${text} goes down (lo must not exceed hi)`);
  return { lo, hi };
}

/** Formats an {@link LrSpec} back to its command-line form (`3e-3`, `1e-5:3e-4`, `:3e-3`). */
export function formatLr(lr: LrSpec): string {
  if (typeof lr === 'number') return String(lr);
  return `${lr.lo === undefined ? '' : String(lr.lo)}:${lr.hi}`;
}

/** An integer parser for an option that must be at least `min`. */
export function intAtLeast(min: number): (text: string) => number {
  return (text: string) => {
    const n = parseNumber(text);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`'${text}' is not ${min === 0 ? 'a whole number >= 0' : `a whole number >= ${min}`}.`);
    }
    return n;
  };
}

/** Parses a positive integer (batch size, epochs, image size, rows, k ...). */
export const parsePositiveInt = intAtLeast(1);

/** Parses an integer >= 0 (`--unfreeze-epochs 0`, `--seed 0`). */
export const parseNonNegativeInt = intAtLeast(0);

/** Parses `--valid-pct`: a fraction strictly between 0 and 1 (0.2 means 20% of the images). */
export function parseFraction(text: string): number {
  const p = parseNumber(text);
  if (!Number.isFinite(p) || p <= 0 || p >= 1) {
    throw new InvalidArgumentError(`'${text}' is not a fraction between 0 and 1 (exclusive), such as 0.2.`);
  }
  return p;
}

/** Parses a positive number (learning rates of `lr-find`). */
export function parsePositiveNumber(text: string): number {
  const n = parseNumber(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`'${text}' is not a positive number.`);
  return n;
}

/** The backends `--backend` accepts. */
export const BACKENDS = ['auto', 'cuda', 'webgpu', 'wasm', 'cpu'] as const;

/** One of {@link BACKENDS}. */
export type BackendChoice = (typeof BACKENDS)[number];

/**
 * Learning-rate specifications and fast.ai's discriminative learning rates (`slice`, v1 `Learner.lr_range`).
 */
import { LearningRateError } from './errors.js';

/** fast.ai's `slice(hi)` / `slice(lo, hi)`: a learning rate spread over the layer groups. */
export interface LrSlice {
  readonly kind: 'slice';
  /** Learning rate of the first group (`undefined` for `slice(hi)`). */
  readonly start: number | undefined;
  /** Learning rate of the last group. */
  readonly stop: number;
}

/** A learning rate: one number for every group, a `slice(...)`, or one number per layer group. */
export type LrSpec = number | LrSlice | readonly number[];

function checkLr(lr: number, what: string): void {
  if (!(Number.isFinite(lr) && lr > 0)) {
    throw new LearningRateError(`${what} must be a finite number > 0, got ${lr}`);
  }
}

/**
 * `slice(hi)`: `hi/10` for every layer group but the last, `hi` for the last.
 * `slice(lo, hi)`: learning rates spaced geometrically from `lo` (first group) to `hi` (last group).
 */
export function slice(hi: number): LrSlice;
export function slice(lo: number, hi: number): LrSlice;
export function slice(a: number, b?: number): LrSlice {
  if (b === undefined) {
    checkLr(a, 'slice(hi): hi');
    return { kind: 'slice', start: undefined, stop: a };
  }
  checkLr(a, 'slice(lo, hi): lo');
  checkLr(b, 'slice(lo, hi): hi');
  return { kind: 'slice', start: a, stop: b };
}

/** True when `lr` is a `slice(...)`. */
export function isLrSlice(lr: unknown): lr is LrSlice {
  return typeof lr === 'object' && lr !== null && (lr as { kind?: unknown }).kind === 'slice';
}

/** `n` values from `start` to `stop` with a constant ratio (fast.ai `even_mults`). */
export function evenMults(start: number, stop: number, n: number): number[] {
  if (n === 1) return [stop];
  const step = (stop / start) ** (1 / (n - 1));
  return Array.from({ length: n }, (_, i) => start * step ** i);
}

/** Short human form of a learning-rate spec, e.g. `slice(1e-05, 0.0003)`. */
export function formatLr(lr: LrSpec): string {
  if (typeof lr === 'number') return String(lr);
  if (isLrSlice(lr)) return lr.start === undefined ? `slice(${lr.stop})` : `slice(${lr.start}, ${lr.stop})`;
  return `[${lr.join(', ')}]`;
}

/**
 * The learning rate of each of `nGroups` layer groups for `lr` (fast.ai v1 `Learner.lr_range`):
 * a number applies to every group, `slice(hi)` gives `hi/10` to all groups but the last, `slice(lo, hi)` spaces
 * them geometrically, an array gives one rate per group (its length must match).
 */
export function lrRange(lr: LrSpec, nGroups: number): number[] {
  if (!Number.isInteger(nGroups) || nGroups < 1) {
    throw new LearningRateError(`the model must have at least one layer group to receive learning rates, got ${nGroups}`);
  }
  if (typeof lr === 'number') {
    checkLr(lr, 'the learning rate');
    return new Array<number>(nGroups).fill(lr);
  }
  if (isLrSlice(lr)) {
    if (lr.start === undefined) return [...new Array<number>(nGroups - 1).fill(lr.stop / 10), lr.stop];
    return evenMults(lr.start, lr.stop, nGroups);
  }
  if (Array.isArray(lr)) {
    if (lr.length !== nGroups) {
      throw new LearningRateError(
        `got ${lr.length} learning rates [${lr.join(', ')}] for ${nGroups} layer groups: give one per group, a number or slice(...)`,
      );
    }
    lr.forEach((v, i) => checkLr(v, `the learning rate of layer group ${i}`));
    return [...lr];
  }
  throw new LearningRateError(
    `unsupported learning rate ${String(lr)}: use a number, slice(hi), slice(lo, hi) or one number per group`,
  );
}

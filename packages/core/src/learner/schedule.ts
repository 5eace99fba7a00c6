/**
 * Hyper-parameter schedules, as fast.ai defines them (v1 `callback.py` annealers, `one_cycle.py` phases).
 */
import { HyperParameterError } from './errors.js';

/** An annealing function: the value at fraction `pct` (0..1) of the way from `start` to `end`. */
export type Annealer = (start: number, end: number, pct: number) => number;

/** Constant `start` (fast.ai `annealing_no`). */
export const annealingNo: Annealer = (start) => start;

/** Linear from `start` to `end` (fast.ai `annealing_linear`). */
export const annealingLinear: Annealer = (start, end, pct) => start + pct * (end - start);

/** Exponential from `start` to `end` (fast.ai `annealing_exp`): `start * (end/start) ** pct`. */
export const annealingExp: Annealer = (start, end, pct) => start * (end / start) ** pct;

/** Cosine from `start` to `end` (fast.ai `annealing_cos`): `end + (start-end)/2 * (cos(pi*pct) + 1)`. */
export const annealingCos: Annealer = (start, end, pct) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);

/** Options of the one-cycle policy (fast.ai v1 `fit_one_cycle` / `OneCycleScheduler`). */
export interface OneCycleOptions {
  /** Momentum (Adam beta1) at the start/end and at the peak of the learning rate. Default `[0.95, 0.85]`. */
  moms?: readonly [number, number];
  /** The learning rate starts at `maxLr / divFactor`. Default 25. */
  divFactor?: number;
  /** Fraction of the iterations spent warming up. Default 0.3. */
  pctStart?: number;
  /** The learning rate ends at `maxLr / finalDiv`. Default `divFactor * 1e4`. */
  finalDiv?: number;
}

/** One-cycle schedule values for one iteration. */
export interface OneCyclePoint {
  /** Multiplier of `maxLr` (apply to each layer group's max lr). */
  lrFactor: number;
  /** Momentum (Adam beta1). */
  mom: number;
}

/**
 * The one-cycle policy of fast.ai v1 over `nIter` training batches, evaluated per batch.
 *
 * With `a1 = floor(nIter * pctStart)` warm-up iterations (at least 1) and `a2 = nIter - a1` (at least 1):
 * batch `k < a1` uses cosine annealing from `maxLr/divFactor` to `maxLr` at `pct = k/a1`, batch `k >= a1`
 * anneals (cosine) from `maxLr` to `maxLr/finalDiv` at `pct = (k-a1)/a2`; momentum follows the mirrored cosines
 * `moms[0] -> moms[1] -> moms[0]`. `at(nIter)` is the value fast.ai sets after the last batch (`maxLr/finalDiv`).
 * This is fast.ai v1's `OneCycleScheduler` (lr set to the phase start at train begin, then stepped after each
 * batch); it equals v2's `combined_cos(pct_start, ...)` at `pos = k/nIter` whenever `nIter * pctStart` is whole.
 */
export class OneCycleSchedule {
  readonly moms: readonly [number, number];
  readonly divFactor: number;
  readonly pctStart: number;
  readonly finalDiv: number;
  /** Warm-up iterations. */
  readonly a1: number;
  /** Annealing iterations. */
  readonly a2: number;

  constructor(
    readonly nIter: number,
    opts: OneCycleOptions = {},
  ) {
    if (!Number.isInteger(nIter) || nIter < 1) {
      throw new HyperParameterError(`one-cycle schedule: the number of iterations must be a whole number >= 1, got ${nIter}`);
    }
    this.moms = opts.moms ?? [0.95, 0.85];
    this.divFactor = opts.divFactor ?? 25;
    this.pctStart = opts.pctStart ?? 0.3;
    this.finalDiv = opts.finalDiv ?? this.divFactor * 1e4;
    for (const m of this.moms) {
      if (!(m >= 0 && m < 1))
        throw new HyperParameterError(`one-cycle schedule: momentums must be in [0, 1), got [${this.moms.join(', ')}]`);
    }
    if (!(this.divFactor > 0)) throw new HyperParameterError(`one-cycle schedule: divFactor must be > 0, got ${this.divFactor}`);
    if (!(this.finalDiv > 0)) throw new HyperParameterError(`one-cycle schedule: finalDiv must be > 0, got ${this.finalDiv}`);
    if (!(this.pctStart >= 0 && this.pctStart <= 1)) {
      throw new HyperParameterError(`one-cycle schedule: pctStart must be in [0, 1], got ${this.pctStart}`);
    }
    const a1 = Math.floor(nIter * this.pctStart);
    this.a1 = Math.max(1, a1);
    this.a2 = Math.max(1, nIter - a1);
  }

  /** The schedule at training batch `k` (0-based); `k = nIter` gives the values left after the last batch. */
  at(k: number): OneCyclePoint {
    const [m0, m1] = this.moms;
    const low = 1 / this.divFactor;
    if (k <= this.a1) {
      const pct = Math.max(0, k) / this.a1;
      return { lrFactor: annealingCos(low, 1, pct), mom: annealingCos(m0, m1, pct) };
    }
    const pct = Math.min(1, (k - this.a1) / this.a2);
    return { lrFactor: annealingCos(1, 1 / this.finalDiv, pct), mom: annealingCos(m1, m0, pct) };
  }

  /** Per-group learning rates at batch `k`, for per-group maximum learning rates `maxLrs`. */
  lrsAt(k: number, maxLrs: readonly number[]): number[] {
    const f = this.at(k).lrFactor;
    return maxLrs.map((lr) => lr * f);
  }
}

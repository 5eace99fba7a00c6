/** Train/valid splits (fast.ai `split_by_rand_pct`). */
import { InvalidOptionError } from './errors.js';
import { createRng, permutation, randomSeed } from './rng.js';

const SPLIT_STREAM = 0x5b1;

/**
 * Splits `n` items at random: `floor(validPct * n)` go to validation. The same seed always gives the same split;
 * without a seed the split is random. (fast.ai draws with NumPy's generator, so its exact split for a given seed
 * is not reproduced; the guarantees — seeded, reproducible, seed-dependent — are.)
 * Returns sorted index lists.
 */
export function splitByRandPct(n: number, validPct: number, seed?: number): { train: number[]; valid: number[] } {
  if (!(validPct > 0 && validPct < 1)) {
    throw new InvalidOptionError('validPct', `must be a fraction between 0 and 1 (exclusive), got ${validPct}`);
  }
  const cut = Math.floor(validPct * n);
  if (cut < 1) {
    throw new InvalidOptionError(
      'validPct',
      `${validPct} of ${n} items gives no validation item; use a larger validPct or more images`,
    );
  }
  if (cut >= n) throw new InvalidOptionError('validPct', `${validPct} of ${n} items leaves no training item`);
  const perm = permutation(n, createRng(seed ?? randomSeed(), SPLIT_STREAM));
  const byIndex = (a: number, b: number): number => a - b;
  return { valid: perm.slice(0, cut).sort(byIndex), train: perm.slice(cut).sort(byIndex) };
}

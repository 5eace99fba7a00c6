import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from './errors.js';
import { createRng, permutation } from './rng.js';
import { splitByRandPct } from './split.js';

describe('seeded random numbers', () => {
  it('repeat for the same seed parts and differ for others', () => {
    const a = createRng(42, 1);
    const b = createRng(42, 1);
    const c = createRng(42, 2);
    const sa = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(sa);
    expect(Array.from({ length: 5 }, c)).not.toEqual(sa);
    expect(sa.every((v) => v >= 0 && v < 1)).toBe(true);
  });

  it('permutes every index exactly once', () => {
    const p = permutation(100, createRng(7));
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe('splitByRandPct', () => {
  it('holds out floor(pct * n) items, reproducibly for a seed and differently for another', () => {
    const a = splitByRandPct(312, 0.2, 42);
    expect(a.valid).toHaveLength(62);
    expect(a.train).toHaveLength(250);
    expect(new Set([...a.train, ...a.valid]).size).toBe(312);
    expect(splitByRandPct(312, 0.2, 42)).toEqual(a);
    expect(splitByRandPct(312, 0.2, 43).valid).not.toEqual(a.valid);
  });

  it('rejects fractions that leave a side empty', () => {
    expect(() => splitByRandPct(10, 0, 1)).toThrow(InvalidOptionError);
    expect(() => splitByRandPct(10, 1, 1)).toThrow(/between 0 and 1/);
    expect(() => splitByRandPct(3, 0.2, 1)).toThrow(/no validation item/);
  });
});

import { describe, expect, it } from 'vitest';
import { formatLr, lrRange, slice } from './lr.js';
import { LearningRateError } from './errors.js';

describe('discriminative learning rates (fast.ai v1 lr_range)', () => {
  it('a number gives every layer group the same rate', () => {
    expect(lrRange(1e-3, 3)).toEqual([1e-3, 1e-3, 1e-3]);
  });
  it('slice(hi) gives hi/10 to all groups but the last', () => {
    const lrs = lrRange(slice(3e-3), 3);
    [3e-4, 3e-4, 3e-3].forEach((v, i) => expect(lrs[i]).toBeCloseTo(v, 18));
    expect(lrRange(slice(3e-3), 1)).toEqual([3e-3]);
  });
  it('slice(lo, hi) spaces the rates geometrically from the first to the last group', () => {
    const lrs = lrRange(slice(1e-5, 3e-4), 3);
    expect(lrs[0]).toBeCloseTo(1e-5, 18);
    expect(lrs[1]).toBeCloseTo(5.4772255750516614e-5, 17);
    expect(lrs[2]).toBeCloseTo(3e-4, 17);
    expect(lrRange(slice(1e-6, 1e-2), 5).map((v) => Math.log10(v))).toEqual(
      [-6, -5, -4, -3, -2].map((e) => expect.closeTo(e, 10) as unknown as number),
    );
  });
  it('an array must have one rate per group', () => {
    expect(lrRange([1, 2, 3], 3)).toEqual([1, 2, 3]);
    expect(() => lrRange([1, 2], 3)).toThrow(/2 learning rates .* for 3 layer groups/);
  });
  it('rejects non-positive or non-finite rates', () => {
    expect(() => lrRange(0, 3)).toThrow(LearningRateError);
    expect(() => slice(Number.NaN)).toThrow(/slice\(hi\)/);
    expect(() => slice(-1, 1)).toThrow(/lo/);
  });
  it('formats specs for messages', () => {
    expect(formatLr(slice(1e-5, 3e-4))).toBe('slice(0.00001, 0.0003)');
    expect(formatLr(slice(3e-3))).toBe('slice(0.003)');
  });
});

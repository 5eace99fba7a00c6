import { describe, expect, it } from 'vitest';
import { fmtTime } from './EpochTable';
import { fmtTick } from './LineChart';

describe('epoch table and chart formatting', () => {
  it('formats epoch times as fast.ai does (mm:ss), rounding to whole seconds first', () => {
    expect(fmtTime(59.6)).toBe('01:00');
    expect(fmtTime(78.2)).toBe('01:18');
    expect(fmtTime(3)).toBe('00:03');
    expect(fmtTime(null)).toBe('—');
  });
  it('writes learning-rate ticks in exponent form and losses with 3 significant digits', () => {
    expect(fmtTick(0.00012)).toBe('1.2e-4');
    expect(fmtTick(0.4567)).toBe('0.457');
    expect(fmtTick(0)).toBe('0');
  });
});

import { describe, expect, it } from 'vitest';
import { formatStat, formatTableHeader, formatTableRow, formatTime } from './format.js';

describe("fast.ai's epoch table formatting", () => {
  it('pads names to 8 and aligns rows under them like fastprogress', () => {
    const names = ['epoch', 'train_loss', 'valid_loss', 'accuracy', 'time'];
    expect(formatTableHeader(names)).toBe('epoch     train_loss  valid_loss  accuracy  time');
    const cells = [formatStat(0, true), formatStat(0.5120712), formatStat(0.0722), formatStat(0.96969697), formatTime(41.2)];
    expect(formatTableRow(names, cells)).toBe('0         0.512071    0.072200    0.969697  00:41');
  });
  it('formats stats and times as fast.ai does', () => {
    expect(formatStat(undefined)).toBe('#na#');
    expect(formatStat(3, true)).toBe('3');
    expect(formatStat(1)).toBe('1.000000');
    expect(formatStat(Number.NaN)).toBe('nan');
    expect(formatTime(75)).toBe('01:15');
    expect(formatTime(3725)).toBe('1:02:05');
  });
});

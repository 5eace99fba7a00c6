import { describe, expect, it } from 'vitest';
import { EpochTable, formatDuration } from './table.js';

describe('epoch table', () => {
  it('prints the header and rows as fast.ai does', () => {
    const t = new EpochTable(['epoch', 'train_loss', 'valid_loss', 'accuracy', 'error_rate', 'time']);
    expect(t.header()).toBe('epoch     train_loss  valid_loss  accuracy  error_rate  time');
    expect(t.row([0, 0.785345, 0.1144171, 0.969697, 0.030303, '00:25'])).toBe(
      '0         0.785345    0.114417    0.969697  0.030303    00:25',
    );
    expect(t.row([1, Number.NaN, 0.1, 1, 0, '01:00'])).toBe('1         #na#        0.100000    1.000000  0.000000    01:00');
  });
  it('formats durations as mm:ss and h:mm:ss', () => {
    expect(formatDuration(25.4)).toBe('00:25');
    expect(formatDuration(61)).toBe('01:01');
    expect(formatDuration(3725)).toBe('1:02:05');
  });
});

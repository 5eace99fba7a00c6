import { describe, expect, it } from 'vitest';
import type { RunDetail } from '../src/server/runTypes';
import { bestValidLoss, configDifferences } from './CompareCharts';

const run = (config: Record<string, unknown>, losses: number[] = []) =>
  ({
    config,
    metrics: losses.map((valid_loss, epoch) => ({ epoch, phase: 'frozen', valid_loss, accuracy: 1 - valid_loss })),
  }) as unknown as RunDetail;

describe('comparing runs', () => {
  it('lists the config keys that differ (not createdAt), sorted, with each run’s value', () => {
    const runs = [
      run({ arch: 'a', seed: 1, size: 64, createdAt: 'x', lr: null }),
      run({ arch: 'b', seed: 1, size: 64, createdAt: 'y' }),
      run({ arch: 'b', seed: 2, size: 64, createdAt: 'z', lr: '1e-3' }),
    ];
    expect(configDifferences(runs)).toEqual([
      { key: 'arch', values: ['a', 'b', 'b'] },
      { key: 'lr', values: ['null', '—', '1e-3'] },
      { key: 'seed', values: ['1', '1', '2'] },
    ]);
  });
  it('takes the best validation loss over the epochs', () => {
    expect(bestValidLoss(run({}, [0.9, 0.4, 0.5]))).toBe(0.4);
    expect(bestValidLoss(run({}))).toBeNull();
  });
});

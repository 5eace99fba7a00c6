import { describe, expect, it } from 'vitest';
import { SharedLayout } from './layout.js';

describe('SharedLayout.paramShards', () => {
  const layout = new SharedLayout([
    { name: 'conv.weight', shape: [3, 3, 4, 5], dtype: 'float32' }, // 180
    { name: 'bn.weight', shape: [5], dtype: 'float32' },
    { name: 'fc.weight', shape: [5, 2], dtype: 'float32' }, // 10
    { name: 'bn.running_mean', shape: [5], dtype: 'float32' }, // a buffer: never sharded
  ]);

  it('splits the parameters (not the buffers) into contiguous, near-equal ranges that cover them once', () => {
    for (const workers of [1, 2, 3, 7, 16]) {
      const shards = layout.paramShards(3, workers);
      expect(shards).toHaveLength(workers);
      expect(shards[0]![0]).toBe(0);
      expect(shards[workers - 1]![1]).toBe(195);
      for (let i = 1; i < workers; i++) expect(shards[i]![0]).toBe(shards[i - 1]![1]);
      const sizes = shards.map(([a, b]) => b - a);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('splits inside a parameter when the shares say so (each worker then updates its part of it)', () => {
    expect(layout.paramShards(3, 2)).toEqual([
      [0, 97],
      [97, 195],
    ]);
  });
});

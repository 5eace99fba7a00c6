import { describe, expect, it } from 'vitest';
import { planWorkers } from './plan.js';

describe('planWorkers', () => {
  it('keeps one single-threaded replica per core on small machines, and grows threads per replica with the cores', () => {
    const plan = (cores: number) => {
      const p = planWorkers({ cores, memoryBytes: 1e12 });
      return [p.workers, p.threadsPerWorker];
    };
    expect(plan(1)).toEqual([1, 1]);
    expect(plan(2)).toEqual([2, 1]);
    expect(plan(4)).toEqual([2, 2]);
    expect(plan(8)).toEqual([4, 2]);
    expect(plan(16)).toEqual([4, 4]);
    expect(plan(64)).toEqual([8, 8]);
    expect(plan(128)).toEqual([16, 8]);
  });

  it('uses every core, and the replicas (the memory) grow far slower than the cores', () => {
    for (const cores of [2, 3, 4, 6, 8, 12, 16, 24, 32, 64]) {
      const p = planWorkers({ cores, memoryBytes: 1e12 });
      expect(p.workers * p.threadsPerWorker).toBeLessThanOrEqual(cores);
      expect(p.workers * p.threadsPerWorker).toBeGreaterThan(cores / 2);
    }
    expect(planWorkers({ cores: 16, memoryBytes: 1e12 }).workers).toBeLessThanOrEqual(
      3 * planWorkers({ cores: 2, memoryBytes: 1e12 }).workers,
    );
  });

  it('takes fewer replicas with more threads when the memory holds fewer replicas', () => {
    const p = planWorkers({ cores: 16, memoryBytes: 3.2e9, bytesPerReplica: 1.5e9 });
    expect([p.workers, p.threadsPerWorker]).toEqual([2, 8]);
    expect(p.reason).toMatch(/memory for 2 replicas/);
    const one = planWorkers({ cores: 2, memoryBytes: 1e9, bytesPerReplica: 1.5e9 });
    expect([one.workers, one.threadsPerWorker]).toEqual([1, 2]);
  });
});

import { describe, expect, it } from 'vitest';
import { annealingCos, annealingExp, OneCycleSchedule } from './schedule.js';
import { HyperParameterError } from './errors.js';

// fast.ai v1 fit_one_cycle defaults: max_lr 3e-3 (last group of slice(3e-3)), div_factor 25, pct_start 0.3,
// final_div 25e4, moms (0.95, 0.85). 100 batches: warm-up a1 = 30, annealing a2 = 70.
const maxLr = 3e-3;
const sched = new OneCycleSchedule(100);
const lrAt = (k: number) => sched.lrsAt(k, [maxLr])[0]!;

describe('OneCycleSchedule (fast.ai v1 OneCycleScheduler)', () => {
  it('starts at maxLr/divFactor with momentum 0.95', () => {
    expect(lrAt(0)).toBeCloseTo(1.2e-4, 15);
    expect(sched.at(0).mom).toBeCloseTo(0.95, 15);
  });
  it('is cosine in the warm-up: a third and half-way (values from annealing_cos by hand)', () => {
    // k=10: pct 1/3, cos(pi/3)=0.5 -> 3e-3 + (1.2e-4-3e-3)/2*1.5
    expect(lrAt(10)).toBeCloseTo(8.4e-4, 15);
    expect(sched.at(10).mom).toBeCloseTo(0.925, 15);
    expect(lrAt(15)).toBeCloseTo(1.56e-3, 15);
    expect(sched.at(15).mom).toBeCloseTo(0.9, 15);
  });
  it('peaks at maxLr with momentum 0.85 after pctStart of the batches', () => {
    expect(lrAt(30)).toBeCloseTo(3e-3, 15);
    expect(sched.at(30).mom).toBeCloseTo(0.85, 15);
    expect(lrAt(29)).toBeLessThan(3e-3);
    expect(lrAt(31)).toBeLessThan(3e-3);
  });
  it('anneals down by cosine: half-way and at 80% of the second phase', () => {
    expect(lrAt(65)).toBeCloseTo(1.500006e-3, 15);
    expect(sched.at(65).mom).toBeCloseTo(0.9, 15);
    expect(lrAt(86)).toBeCloseTo(2.8648536253954527e-4, 15);
    expect(sched.at(86).mom).toBeCloseTo(0.9404508497187474, 15);
  });
  it('ends at maxLr/(divFactor*1e4) with momentum back at 0.95', () => {
    expect(lrAt(100)).toBeCloseTo(1.2e-8, 20);
    expect(sched.at(100).mom).toBeCloseTo(0.95, 15);
    expect(lrAt(99)).toBeGreaterThan(1.2e-8);
  });
  it("equals fast.ai v2's combined_cos at pos = k/n when n * pctStart is whole", () => {
    const v2 = (pos: number, start: number, mid: number, end: number, pct = 0.3) =>
      pos < pct ? annealingCos(start, mid, pos / pct) : annealingCos(mid, end, (pos - pct) / (1 - pct));
    for (let k = 0; k <= 100; k++) {
      expect(lrAt(k)).toBeCloseTo(v2(k / 100, maxLr / 25, maxLr, maxLr / 25e4), 15);
      expect(sched.at(k).mom).toBeCloseTo(v2(k / 100, 0.95, 0.85, 0.95), 12);
    }
  });
  it('honours custom divFactor, pctStart, finalDiv and moms', () => {
    const s = new OneCycleSchedule(10, { divFactor: 10, pctStart: 0.5, finalDiv: 100, moms: [0.9, 0.8] });
    const lrs = s.lrsAt(0, [1, 0.1]);
    expect(lrs[0]).toBeCloseTo(0.1, 15);
    expect(lrs[1]).toBeCloseTo(0.01, 15);
    expect(s.at(5)).toEqual({ lrFactor: 1, mom: 0.8 });
    expect(s.at(10).lrFactor).toBeCloseTo(0.01, 15);
    expect(s.at(10).mom).toBeCloseTo(0.9, 15);
  });
  it('handles fewer batches than a warm-up step as fast.ai v1 does (one warm-up iteration)', () => {
    // a1 = floor(3 * 0.3) = 0 -> its Scheduler still takes max(1, 0) = 1 step; a2 = 3
    const s = new OneCycleSchedule(3);
    expect(s.at(0).lrFactor).toBeCloseTo(1 / 25, 15);
    expect(s.at(1).lrFactor).toBe(1);
    expect(s.at(2).lrFactor).toBeCloseTo(annealingCos(1, 1 / 25e4, 1 / 3), 15);
  });
  it('rejects impossible settings with readable errors', () => {
    expect(() => new OneCycleSchedule(0)).toThrow(HyperParameterError);
    expect(() => new OneCycleSchedule(10, { pctStart: 1.5 })).toThrow(/pctStart/);
    expect(() => new OneCycleSchedule(10, { moms: [0.95, 1.2] })).toThrow(/momentums/);
  });
  it('exponential annealing goes geometrically (lr_find)', () => {
    expect(annealingExp(1e-7, 10, 0.5)).toBeCloseTo(Math.sqrt(1e-6), 12);
  });
});

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../gradients.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Learner } from './learner.js';
import { accuracy } from './metrics.js';
import { slice } from './lr.js';
import { MemoryStorage } from './storage.js';
import { FitInterruptedError } from './errors.js';
import { DatasetType } from './data.js';
import { currentPlatform, platformReady, registerPlatform, type InterruptScope } from './platform.js';
import type { ProgressEvent } from './progress.js';
import { stripesData, tinyNet } from './testing.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => registerPlatform({ name: 'none' }));

function makeLearner(opts: Partial<ConstructorParameters<typeof Learner>[2]> = {}) {
  const data = stripesData({ nTest: 4 });
  const { model, layerGroups } = tinyNet();
  return new Learner(data, model, { layerGroups, ...opts });
}

describe('platformReady', () => {
  it('runs the platform setup once, shares it, and retries after a failure', async () => {
    let calls = 0;
    registerPlatform({
      name: 'test',
      ready: async () => {
        calls += 1;
        if (calls === 1) throw new Error('no backend yet');
      },
    });
    await expect(platformReady()).rejects.toThrow('no backend yet');
    await Promise.all([platformReady(), platformReady()]);
    await platformReady();
    expect(calls).toBe(2);
  });

  it('resolves at once without a platform', async () => {
    expect(currentPlatform().name).toBe('none');
    await platformReady();
  });
});

describe("Learner with a platform's defaults", () => {
  it('uses the platform storage and reporter, and awaits the backend before fitting', async () => {
    const storage = new MemoryStorage();
    const events: ProgressEvent['type'][] = [];
    const order: string[] = [];
    registerPlatform({
      name: 'test',
      ready: async () => void order.push('ready'),
      storage,
      reporter: () => (e) => events.push(e.type),
    });
    const learn = makeLearner({ metrics: accuracy });
    expect(learn.storage).toBe(storage);
    expect(learn.metricNames()).toEqual(['accuracy']);
    learn.callbacks.push({ name: 'order', beforeFit: () => void order.push('fit') });
    await learn.fitOneCycle(1, slice(1e-2));
    expect(order).toEqual(['ready', 'fit']);
    expect(events[0]).toBe('begin');
    expect(events).toContain('epoch');
    expect(events.at(-1)).toBe('end');
    await learn.save('x');
    expect(storage.files.has('models/x.safetensors')).toBe(true);
  });

  it('quiet (or reporter: null) turns the default output off; an explicit reporter wins', async () => {
    let used = 0;
    registerPlatform({ name: 'test', reporter: () => () => void (used += 1) });
    for (const opts of [{ quiet: true }, { reporter: null }]) {
      await makeLearner(opts).fitOneCycle(1);
    }
    expect(used).toBe(0);
    const mine: string[] = [];
    await makeLearner({ reporter: (e) => mine.push(e.type) }).fitOneCycle(1);
    expect(used).toBe(0);
    expect(mine[0]).toBe('begin');
  });

  it("stops a fit at the end of the batch on the platform's interrupt, checkpoints, then tells the platform", async () => {
    const storage = new MemoryStorage();
    let released = 0;
    let told: FitInterruptedError | undefined;
    const signal = { aborted: false };
    registerPlatform({
      name: 'test',
      storage,
      interrupts: (): InterruptScope => ({
        signal,
        onInterrupted: (e) => void (told = e),
        release: () => void (released += 1),
      }),
    });
    const learn = makeLearner();
    learn.callbacks.push({ name: 'ctrl-c', afterBatch: (l) => void (l.training && l.iter === 1 && (signal.aborted = true)) });
    const err = await learn.fitOneCycle(2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FitInterruptedError);
    expect(told).toBe(err);
    expect((err as FitInterruptedError).batch).toBe(2);
    expect(storage.files.has('models/interrupted.safetensors')).toBe(true);
    expect(released).toBe(1);
  });

  it("leaves the platform's interrupts alone when the fit has its own signal", async () => {
    let scopes = 0;
    registerPlatform({
      name: 'test',
      interrupts: () => ((scopes += 1), { signal: { aborted: true }, release: () => undefined }),
    });
    await makeLearner().fit(1, 1e-3, { signal: { aborted: false } });
    expect(scopes).toBe(0);
  });
});

describe("fast.ai's positional forms", () => {
  it('fitOneCycle(n, maxLr) is fitOneCycle(n, { maxLr }); getPreds(DatasetType.Test) and { isTest } are the test set', async () => {
    const learn = makeLearner();
    await learn.fitOneCycle(1, slice(1e-5, 3e-4));
    const withOptions = makeLearner();
    await withOptions.fitOneCycle(1, { maxLr: slice(1e-5, 3e-4) });
    expect(learn.recorder.lrs).toEqual(withOptions.recorder.lrs);
    expect(Math.max(...learn.recorder.lrs.map((l) => l[0]!))).toBeLessThan(1.01e-5);
    const byName = await learn.getPreds(DatasetType.Test);
    const byFlag = await learn.getPreds({ isTest: true });
    expect(byName.items).toHaveLength(4);
    expect(byFlag.probs).toEqual(byName.probs);
    const [probs, targets] = await learn.getPreds();
    expect(probs).toHaveLength(learn.data.validDl!.items.length);
    expect((targets as number[]).every((t) => t === 0 || t === 1)).toBe(true);
  });
});

/**
 * Callbacks: objects with optional handlers for fast.ai's training events, run in `order` (lower first).
 */
import type { FitLearner } from './types.js';

/** The training events, in the order they happen (fast.ai v2 names, camelCase). */
export const CALLBACK_EVENTS = [
  'beforeFit',
  'beforeEpoch',
  'beforeTrain',
  'beforeBatch',
  'afterLoss',
  'afterStep',
  'afterBatch',
  'afterTrain',
  'beforeValidate',
  'afterValidate',
  'afterEpoch',
  'afterFit',
] as const;

/** One of {@link CALLBACK_EVENTS}. */
export type CallbackEvent = (typeof CALLBACK_EVENTS)[number];

/** A handler: may be async (the Learner awaits it). */
export type CallbackHandler = (learn: FitLearner) => void | Promise<void>;

/**
 * A training callback: an object (or class instance) with optional handlers for the events, run in `order` (lower
 * first). `beforeBatch`/`afterLoss`/`afterStep` run for training batches only (`afterBatch` also for validation
 * batches, with `learn.training` false); `afterLoss` sees `learn.loss` before the optimizer step; `afterFit` runs
 * even when training stops on an error or an interruption.
 */
export interface Callback {
  readonly name?: string;
  readonly order?: number;
  beforeFit?(learn: FitLearner): void | Promise<void>;
  beforeEpoch?(learn: FitLearner): void | Promise<void>;
  beforeTrain?(learn: FitLearner): void | Promise<void>;
  beforeBatch?(learn: FitLearner): void | Promise<void>;
  afterLoss?(learn: FitLearner): void | Promise<void>;
  afterStep?(learn: FitLearner): void | Promise<void>;
  afterBatch?(learn: FitLearner): void | Promise<void>;
  afterTrain?(learn: FitLearner): void | Promise<void>;
  beforeValidate?(learn: FitLearner): void | Promise<void>;
  afterValidate?(learn: FitLearner): void | Promise<void>;
  afterEpoch?(learn: FitLearner): void | Promise<void>;
  afterFit?(learn: FitLearner): void | Promise<void>;
}

/** Sorts callbacks by `order` (stable). */
export function sortCallbacks(cbs: readonly Callback[]): Callback[] {
  return [...cbs].sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
}

/** Runs `event` on each callback in order. */
export async function runEvent(cbs: readonly Callback[], event: CallbackEvent, learn: FitLearner): Promise<void> {
  for (const cb of cbs) {
    const h = cb[event];
    if (h) await h.call(cb, learn);
  }
}

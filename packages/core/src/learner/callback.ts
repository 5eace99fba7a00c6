/**
 * Callbacks: objects with optional handlers for fast.ai's training events, run in `order` (lower first).
 */
import type { Learner } from './learner.js';

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
export type CallbackHandler = (learn: Learner) => void | Promise<void>;

/**
 * A training callback. `beforeBatch`/`afterLoss`/`afterStep`/`afterBatch` run for training batches only
 * (`afterBatch` also for validation batches, with `learn.training` false); `afterLoss` sees `learn.loss`
 * before the optimizer step; `afterFit` runs even when training stops on an error or an interruption.
 */
export type Callback = { readonly name?: string; readonly order?: number } & { [E in CallbackEvent]?: CallbackHandler };

/** Sorts callbacks by `order` (stable). */
export function sortCallbacks(cbs: readonly Callback[]): Callback[] {
  return [...cbs].sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
}

/** Runs `event` on each callback in order. */
export async function runEvent(cbs: readonly Callback[], event: CallbackEvent, learn: Learner): Promise<void> {
  for (const cb of cbs) {
    const h = cb[event];
    if (h) await h.call(cb, learn);
  }
}

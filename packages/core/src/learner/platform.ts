/**
 * The platform port: what a platform package (`@fastts/node-gpu`, `@fastts/webgpu`) binds into core so that
 * fast.ai's few lines work without wiring — the backend set up lazily before the first tensor, a default storage,
 * pretrained weights, the preferred training step, the default progress output, and Ctrl-C handling. Core only
 * reads these defaults; every one of them can be overridden per call through the options of `cnnLearner`/`Learner`
 * and `fit*`.
 */
import type { PretrainedWeights } from '../weights/pretrained.js';
import type { FitInterruptedError } from './errors.js';
import type { ProgressReporter } from './progress.js';
import type { LearnerStorage } from './storage.js';

/** Something with an `aborted` flag (an `AbortSignal` fits). */
export interface AbortSignalLike {
  readonly aborted: boolean;
}

/** Loads an architecture's pretrained ImageNet weights (a platform's weight cache). */
export type PretrainedLoader = (arch: string) => Promise<PretrainedWeights>;

/** What a platform gives a fit that has no `signal` of its own: Ctrl-C handling for the fit's duration. */
export interface InterruptScope {
  /** Aborted when the user asks to stop (e.g. SIGINT): the fit stops at the end of the batch and checkpoints. */
  readonly signal: AbortSignalLike;
  /**
   * Called with the error a fit stopped by {@link signal} throws, after its checkpoint is written. A platform may
   * end the program here (Node: prints the one-line message and exits 130, as a stopped command does); when it
   * returns, the error propagates to the caller.
   */
  onInterrupted?(error: FitInterruptedError): void;
  /** Ends the scope (removes the signal handlers). */
  release(): void;
}

/**
 * The defaults a platform binds. Every member is optional: core without a platform trains on whatever tfjs backend
 * is active, with no storage, no pretrained weights and no output.
 */
export interface Platform {
  /** Names the platform in messages (`node`, `browser`). */
  readonly name: string;
  /** Sets up the backend; awaited (once) before data loading, learner creation and every fit. */
  ready?(): Promise<void>;
  /** The storage learners use when none is given (checkpoints, exports, loggers). */
  storage?: LearnerStorage;
  /** Loads pretrained weights for `cnnLearner` when none are given. */
  loadPretrained?: PretrainedLoader;
  /** The default progress output of a learner (fast.ai's progress bar and epoch table), or undefined for none. */
  reporter?(): ProgressReporter | undefined;
  /** Ctrl-C handling for a fit given no `signal`, or undefined for none. */
  interrupts?(): InterruptScope | undefined;
}

let current: Platform = { name: 'none' };
let readyOnce: Promise<void> | undefined;

/** Binds a platform's defaults (replacing the previous platform). Platform packages call this when imported. */
export function registerPlatform(platform: Platform): void {
  current = platform;
  readyOnce = undefined;
}

/** Changes some of the current platform's defaults (`undefined` removes one). */
export function updatePlatform(patch: Partial<Omit<Platform, 'name'>>): void {
  const next: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete next[k];
    else next[k] = v;
  }
  current = next as unknown as Platform;
  if ('ready' in patch) readyOnce = undefined;
}

/** The platform bound now. */
export function currentPlatform(): Readonly<Platform> {
  return current;
}

/**
 * Resolves once the platform's backend is set up (the first call starts it; later calls share the result). A
 * failed setup is not remembered, so a later call tries again.
 */
export function platformReady(): Promise<void> {
  if (!current.ready) return Promise.resolve();
  if (!readyOnce) {
    const p = current.ready();
    readyOnce = p;
    p.catch(() => {
      if (readyOnce === p) readyOnce = undefined;
    });
  }
  return readyOnce;
}

/**
 * Lets a platform provide pretrained weights to `cnnLearner` when none are passed (Node: the weight cache's
 * `loadPretrained`). `undefined` removes it.
 */
export function registerPretrainedLoader(loader: PretrainedLoader | undefined): void {
  updatePlatform({ loadPretrained: loader });
}

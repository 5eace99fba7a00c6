/**
 * Ctrl-C handling on Node: the first SIGINT (or SIGTERM) aborts an `AbortSignal` that a fit watches — training
 * stops at the end of the current batch and writes a checkpoint — and a later one ends the process at once.
 * The CLI wraps every command in {@link handleInterrupts}; the platform gives each fit that has no `signal` of its
 * own the same handling through {@link fitInterruptScope}.
 */
import type { FitInterruptedError } from '@fastts/core';
import type { InterruptScope } from '@fastts/core/platform';

/** What {@link handleInterrupts} returns. */
export interface InterruptHandle {
  /** Aborted on the first Ctrl-C (or SIGTERM). */
  readonly signal: AbortSignal;
  /** Whether Ctrl-C was pressed (or SIGTERM received). */
  readonly interrupted: boolean;
  /** The signal that stopped the command, once one came. */
  readonly signalName: NodeJS.Signals | undefined;
  /** How messages name it: `Ctrl-C` for SIGINT, else the signal's name. */
  readonly by: string;
  /** Removes the SIGINT/SIGTERM listeners. */
  dispose(): void;
}

/** Options of {@link handleInterrupts}. */
export interface InterruptOptions {
  /** Called on the first signal (prints "stopping at the end of this batch..."). */
  onFirst?: (signal: NodeJS.Signals) => void;
  /** Called on a later signal, right before the process exits. */
  onForce?: () => void;
  /** What ends the process on a later signal (tests replace it). */
  exit?: (code: number) => void;
  /**
   * Signals within this many ms of the first count as the same keypress (default 0). A terminal sends SIGINT to
   * the whole process group, so under `npm run` or `tsx` one Ctrl-C can arrive twice.
   */
  sameKeypressMs?: number;
}

/** The exit code for a run stopped by `sig`: 130 for SIGINT (Ctrl-C), 143 for SIGTERM (128 + the signal number). */
export function exitCodeFor(sig: NodeJS.Signals | undefined): number {
  return sig === 'SIGTERM' ? 143 : 130;
}

/** Installs SIGINT (and SIGTERM) listeners that turn the first signal into an abort. */
export function handleInterrupts(options: InterruptOptions = {}): InterruptHandle {
  const controller = new AbortController();
  let count = 0;
  let first: NodeJS.Signals | undefined;
  let firstAt = 0;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const listener = (sig: NodeJS.Signals): void => {
    if (count > 0 && Date.now() - firstAt < (options.sameKeypressMs ?? 0)) return;
    count++;
    if (count === 1) {
      first = sig;
      firstAt = Date.now();
      options.onFirst?.(sig);
      controller.abort(Object.assign(new Error(`stopped by ${sig === 'SIGINT' ? 'Ctrl-C' : sig}`), { name: 'AbortError' }));
    } else {
      options.onForce?.();
      exit(exitCodeFor(first ?? sig));
    }
  };
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  return {
    signal: controller.signal,
    get interrupted() {
      return count > 0;
    },
    get signalName() {
      return first;
    },
    get by() {
      return first === undefined || first === 'SIGINT' ? 'Ctrl-C' : first;
    },
    dispose() {
      process.off('SIGINT', listener);
      process.off('SIGTERM', listener);
    },
  };
}

/**
 * The platform's Ctrl-C handling for one fit: the first Ctrl-C stops it at the end of the batch (the Learner saves
 * `models/interrupted.safetensors` when it has storage), then the message is printed and the process exits with
 * 130 (143 for SIGTERM) — what a command-line program stopped by Ctrl-C does. A later Ctrl-C quits at once.
 */
export function fitInterruptScope(log: (line: string) => void): InterruptScope {
  const handle = handleInterrupts({
    sameKeypressMs: 1000,
    onFirst: (sig) =>
      log(`\n${sig === 'SIGINT' ? 'Ctrl-C' : sig}: stopping at the end of this batch (Ctrl-C again to quit at once)...`),
  });
  return {
    signal: handle.signal,
    onInterrupted(error: FitInterruptedError) {
      if (!handle.interrupted) return;
      handle.dispose();
      log(error.message);
      process.exit(exitCodeFor(handle.signalName));
    },
    release: () => handle.dispose(),
  };
}

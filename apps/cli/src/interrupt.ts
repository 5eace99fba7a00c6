/**
 * Ctrl-C handling: the first SIGINT aborts an `AbortSignal` the running command passes to the library (training
 * stops at the end of the current batch, then the command writes its checkpoint and exits 130); a second SIGINT
 * exits 130 at once.
 */
import { ExitCode } from './errors.js';

/** What {@link handleInterrupts} returns. */
export interface InterruptHandle {
  /** Aborted on the first Ctrl-C. */
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
  /** Called on a second signal, right before the process exits with 130. */
  onForce?: () => void;
  /** What ends the process on the second signal (tests replace it). */
  exit?: (code: number) => void;
}

/** Installs SIGINT (and SIGTERM) listeners that turn the first signal into an abort. */
export function handleInterrupts(options: InterruptOptions = {}): InterruptHandle {
  const controller = new AbortController();
  let count = 0;
  let first: NodeJS.Signals | undefined;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const listener = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      first = sig;
      options.onFirst?.(sig);
      controller.abort(Object.assign(new Error(`stopped by ${sig === 'SIGINT' ? 'Ctrl-C' : sig}`), { name: 'AbortError' }));
    } else {
      options.onForce?.();
      exit(exitCodeFor(sig));
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

/** The exit code for a run stopped by `sig`: 130 for SIGINT (Ctrl-C), 143 for SIGTERM (128 + the signal number). */
export function exitCodeFor(sig: NodeJS.Signals | undefined): number {
  return sig === 'SIGTERM' ? 143 : ExitCode.interrupted;
}

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
  /** Whether Ctrl-C was pressed. */
  readonly interrupted: boolean;
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
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const listener = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      options.onFirst?.(sig);
      controller.abort(Object.assign(new Error(`stopped by ${sig === 'SIGINT' ? 'Ctrl-C' : sig}`), { name: 'AbortError' }));
    } else {
      options.onForce?.();
      exit(ExitCode.interrupted);
    }
  };
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  return {
    signal: controller.signal,
    get interrupted() {
      return count > 0;
    },
    dispose() {
      process.off('SIGINT', listener);
      process.off('SIGTERM', listener);
    },
  };
}

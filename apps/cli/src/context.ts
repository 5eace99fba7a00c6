/** What a command's implementation receives besides its arguments and options. */
import type { InterruptHandle } from '@fastts/node-gpu/platform';
import type { CliIo } from './output.js';
import { Reporter } from './output.js';

/** The environment of one command run. */
export interface CommandContext {
  /** Streams, environment and working directory. */
  io: CliIo;
  /** Output discipline (stdout results, stderr progress, `--json`). */
  reporter: Reporter;
  /** Aborted on the first Ctrl-C. */
  interrupts: InterruptHandle;
}

/** A context with the given options, for tests and embedding. */
export function makeContext(
  io: CliIo,
  options: { json?: boolean; verbose?: boolean },
  interrupts: InterruptHandle,
): CommandContext {
  return { io, reporter: new Reporter(io, options), interrupts };
}

/**
 * Errors and exit codes of the `fastts` command line, and the one formatter that turns any thrown value into the
 * single line a user sees (what is wrong + what to do), with the stack trace only under `--verbose`.
 */

/** Process exit codes of `fastts`. */
export const ExitCode = {
  /** The command did what was asked. */
  ok: 0,
  /** The command line was fine but running it failed (bad data, corrupt image, backend unavailable, ...). */
  failure: 1,
  /** The command line is wrong: unknown command/option, malformed value, missing path, unknown arch, ... */
  usage: 2,
  /** Stopped by Ctrl-C (SIGINT), 128 + 2 as shells report it. */
  interrupted: 130,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Options of {@link CliError}. */
export interface CliErrorOptions {
  /** What the user can do about it; printed after the message. */
  hint?: string;
  /** The process exit code this error maps to (default {@link ExitCode.failure}). */
  exitCode?: number;
  /** The underlying error, shown with `--verbose`. */
  cause?: unknown;
}

/** An error the CLI reports as one readable line and a specific exit code. */
export class CliError extends Error {
  /** The exit code this error ends the process with. */
  readonly exitCode: number;
  /** What to do about it (already part of {@link CliError.line}). */
  readonly hint: string | undefined;

  constructor(message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? ExitCode.failure;
    this.hint = options.hint;
  }

  /** The single line printed for this error, `<message>; <hint>` (without the `error:` prefix). */
  get line(): string {
    return oneLine(this.hint ? `${stripStop(this.message)}; ${this.hint}` : this.message);
  }
}

/** A mistake in the command line: exits with {@link ExitCode.usage} (2). */
export class UsageError extends CliError {
  constructor(message: string, options: Omit<CliErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.usage });
    this.name = 'UsageError';
  }
}

/** The run was stopped by Ctrl-C: exits with {@link ExitCode.interrupted} (130). */
export class InterruptedError extends CliError {
  constructor(message: string, options: Omit<CliErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: ExitCode.interrupted });
    this.name = 'InterruptedError';
  }
}

/**
 * Error class names from the fastts libraries that mean "the command line named something that does not exist"
 * (an unknown architecture, say): reported as usage errors (exit 2). Everything else a library throws is a runtime
 * failure (exit 1) whose own message is printed as is.
 */
const USAGE_ERROR_NAMES = new Set(['UnknownArchError', 'UnknownArchitectureError', 'UnknownBackendError']);

/** Node system error codes and how to say them. */
const SYSTEM_ERRORS: Record<string, { what: string; hint: string }> = {
  ENOENT: { what: 'no such file or folder', hint: 'check the path' },
  EACCES: { what: 'permission denied', hint: 'choose a path you can read/write, or fix its permissions' },
  EPERM: { what: 'operation not permitted', hint: 'choose a path you can read/write, or fix its permissions' },
  EROFS: { what: 'read-only file system', hint: 'choose a writable location' },
  ENOSPC: { what: 'no space left on device', hint: 'free some disk space or choose another location' },
  ENOTDIR: { what: 'a path component is not a folder', hint: 'check the path' },
  EISDIR: { what: 'is a folder, expected a file', hint: 'give a file path' },
  EEXIST: { what: 'already exists', hint: 'choose another path or remove it' },
  EMFILE: { what: 'too many open files', hint: 'raise the open-file limit (ulimit -n)' },
};

interface SystemErrorLike extends Error {
  code?: string;
  path?: string;
  syscall?: string;
}

/** Turns any thrown value into a {@link CliError} (keeping the original as `cause`). */
export function toCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof Error) {
    const sys = err as SystemErrorLike;
    if (typeof sys.code === 'string' && SYSTEM_ERRORS[sys.code]) {
      const known = SYSTEM_ERRORS[sys.code]!;
      const where = sys.path ? `'${sys.path}'` : (sys.syscall ?? 'file operation');
      return new CliError(`${where}: ${known.what}`, { hint: known.hint, cause: err });
    }
    if (err.name === 'AbortError' || err.name === 'FitInterruptedError') {
      return new InterruptedError('stopped by Ctrl-C', { cause: err });
    }
    const exitCode = USAGE_ERROR_NAMES.has(err.name) ? ExitCode.usage : ExitCode.failure;
    const message = err.message.trim() || err.name || 'unknown error';
    return new CliError(message, { exitCode, cause: err });
  }
  return new CliError(String(err));
}

/** Options of {@link formatError}. */
export interface FormatErrorOptions {
  /** Append the stack trace (and the causes' stacks). */
  verbose?: boolean;
  /** Colour the `error:` prefix. */
  color?: boolean;
}

/**
 * The text printed on stderr for an error: one line `error: <what is wrong>; <what to do>` (`interrupted: ...`
 * for Ctrl-C); with `verbose`, the stack traces follow on the next lines.
 */
export function formatError(err: unknown, options: FormatErrorOptions = {}): string {
  const cli = toCliError(err);
  const word = cli.exitCode === ExitCode.interrupted ? 'interrupted:' : 'error:';
  const prefix = options.color ? `\u001b[31m${word}\u001b[39m` : word;
  let text = `${prefix} ${cli.line}\n`;
  if (options.verbose) {
    const seen = new Set<unknown>();
    let current: unknown = cli;
    while (current instanceof Error && !seen.has(current)) {
      seen.add(current);
      if (current.stack) text += `${current === cli ? '' : 'caused by: '}${current.stack}\n`;
      current = (current as { cause?: unknown }).cause;
    }
  }
  return text;
}

/** Collapses whitespace and newlines so a message always prints as one line. */
export function oneLine(text: string): string {
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .join(' ')
    .replace(/\s+/g, ' ');
}

function stripStop(text: string): string {
  return text.replace(/[.:;]\s*$/, '');
}

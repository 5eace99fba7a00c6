/**
 * Where the CLI writes: results on stdout, everything else (progress, logs, errors) on stderr. With `--json`,
 * stdout carries exactly one JSON object, written once at the end; human-readable output moves to stderr.
 */

/** A stream the CLI writes to (process.stdout/stderr, or a buffer in tests). */
export interface OutStream {
  write(chunk: string): unknown;
  /** True on a terminal: enables progress bars and (unless NO_COLOR) colours. */
  isTTY?: boolean;
  /** Terminal width, when known. */
  columns?: number;
}

/** The process environment the CLI runs in; injectable for tests. */
export interface CliIo {
  stdout: OutStream;
  stderr: OutStream;
  env: Record<string, string | undefined>;
  /** Working directory relative paths resolve against. */
  cwd: string;
}

/** The real process's streams and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/**
 * Whether to colour output written to `stream`: never when `NO_COLOR` is set to anything non-empty
 * (https://no-color.org), always when `FORCE_COLOR` is set to anything but `0`, otherwise only on a terminal.
 */
export function colorEnabled(stream: OutStream, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** ANSI styling that collapses to plain text when colour is off. */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

/** Makes a {@link Style}; all functions are the identity when `enabled` is false. */
export function makeStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}

/** Options shared by every command. */
export interface GlobalOptions {
  /** Print stack traces and extra diagnostics. */
  verbose?: boolean;
  /** Machine-readable output: one JSON object on stdout. */
  json?: boolean;
}

/**
 * The output of one command run: `out` is the human-readable channel (stdout, or stderr with `--json`), `log`
 * is for progress and diagnostics (always stderr), `result` writes the single JSON object of `--json`.
 */
export class Reporter {
  readonly json: boolean;
  readonly verbose: boolean;
  /** Styling for the human-readable channel. */
  readonly style: Style;
  /** Styling for stderr. */
  readonly errStyle: Style;
  private resultWritten = false;

  constructor(
    readonly io: CliIo,
    options: GlobalOptions = {},
  ) {
    this.json = options.json === true;
    this.verbose = options.verbose === true;
    this.style = makeStyle(colorEnabled(this.humanStream, io.env));
    this.errStyle = makeStyle(colorEnabled(io.stderr, io.env));
  }

  /** The stream human-readable results go to: stdout, or stderr under `--json`. */
  get humanStream(): OutStream {
    return this.json ? this.io.stderr : this.io.stdout;
  }

  /** Whether progress bars may draw (stderr is a terminal). */
  get interactive(): boolean {
    return this.io.stderr.isTTY === true;
  }

  /** Writes a line of human-readable output (stdout; stderr under `--json`). */
  out(line = ''): void {
    this.humanStream.write(`${line}\n`);
  }

  /** Writes a line of progress/diagnostics to stderr. */
  log(line = ''): void {
    this.io.stderr.write(`${line}\n`);
  }

  /** Writes a diagnostic line to stderr only under `--verbose`. */
  debug(line: string): void {
    if (this.verbose) this.io.stderr.write(`${this.errStyle.dim(line)}\n`);
  }

  /** Writes a warning line to stderr. */
  warn(line: string): void {
    this.io.stderr.write(`${this.errStyle.yellow('warning:')} ${line}\n`);
  }

  /** Under `--json`, writes `value` as the one JSON object on stdout (at most once per run). */
  result(value: unknown): void {
    if (!this.json) return;
    if (this.resultWritten) throw new Error('internal: the JSON result was already written');
    this.resultWritten = true;
    this.io.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** Whether {@link Reporter.result} has written the JSON object. */
  get hasResult(): boolean {
    return this.resultWritten;
  }
}

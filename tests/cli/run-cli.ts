/**
 * Runs the built `fastts` binary (apps/cli/dist/cli.js) as a subprocess, the way users and scripts do, with the
 * shared pre-filled weight cache as FASTTS_HOME and downloads forbidden.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, WEIGHTS_HOME } from '../../test-support/shared.js';

/** The built CLI entry point. */
export const CLI = join(REPO_ROOT, 'apps', 'cli', 'dist', 'cli.js');

/** Throws a clear error when the CLI has not been built. */
export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} not found: build first (npx turbo run build)`);
}

/** What a finished run gave. */
export interface CliResult {
  /** Exit code (null when killed by a signal). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli}. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Kill the process after this many ms (default 10 minutes). */
  timeoutMs?: number;
}

/** The environment every test run gets: shared weight cache, offline, no colours. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FASTTS_HOME: WEIGHTS_HOME, FASTTS_OFFLINE: '1', NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Starts `fastts <args>`; the caller collects output via {@link collect}. */
export function startCli(args: readonly string[], options: RunOptions = {}): ChildProcess {
  requireBuiltCli();
  return spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: cliEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Waits for a started process and gathers its output. */
export function collect(child: ChildProcess, timeoutMs = 600_000): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fastts did not finish within ${timeoutMs} ms; stderr so far:\n${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `fastts <args>` to completion. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return collect(startCli(args, options), options.timeoutMs);
}

/** The non-empty lines of a text. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** Decodes a PNG file (throws when it is not a valid PNG) and returns its size. */
export async function pngSize(path: string): Promise<{ width: number; height: number }> {
  const { PNG } = await import('pngjs');
  const { readFileSync } = await import('node:fs');
  const png = PNG.sync.read(readFileSync(path));
  return { width: png.width, height: png.height };
}

/** Parses CSV text (RFC 4180, as the CLI writes it) into rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (ch !== '\r') field += ch;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/**
 * The run directory `fastts train` writes (default `runs/<timestamp>-<arch>`) and its writers:
 *
 * ```
 * config.json            the command's settings (data, arch, size, bs, epochs, lrs, seed, backend, classes, ...)
 * metrics.jsonl          one JSON object per epoch: epoch, phase, train_loss, valid_loss, accuracy, error_rate, seconds
 * model/                 the exported model (weights + classes + preprocessing), what `fastts predict` loads
 * batch.png              a grid of training images with their labels
 * confusion_matrix.png   the validation confusion matrix
 * top_losses.png         the validation images with the highest loss
 * test_predictions.csv   file,label,probability for each test image (when a test folder exists)
 * status.json            running | finished | failed | interrupted, pid, times, the error line
 * batches.jsonl          one JSON object per training batch: iter, epoch, phase, loss, lr, mom (live curves)
 * interpretation.json    confusion matrix, per-item validation losses, top losses (for the dashboard)
 * checkpoints/           epoch-<n>.safetensors after each epoch (n epochs done), interrupted.safetensors on Ctrl-C:
 *                        what `fastts train --resume <runDir>` continues from (removed once the model is exported)
 * ```
 * JSON files are written atomically (temporary file + rename); JSON Lines are appended one whole line at a time,
 * so the dashboard (apps/web) can read a run while it is being written.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  accessSync,
  appendFileSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  decideStatus,
  jsonLine,
  runConfigText,
  RUN_FILES,
  type MetricsLine,
  type Prediction,
  type ResumePoint,
  type RunConfig,
  type RunStatus,
  type StatusFile,
} from '@fastts/core/runs';
import { csvRow } from './csv.js';
import { UsageError } from './errors.js';

/** `YYYYMMDD-HHMMSS` in local time, sortable, safe in file names. */
export function timestamp(date: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-` +
    `${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`
  );
}

/**
 * The default run directory `runs/<timestamp>-<arch>` under `cwd`; a `-2`, `-3`... suffix is added when two runs
 * start in the same second.
 */
export function defaultRunDir(arch: string, cwd: string, date: Date = new Date()): string {
  const base = join(resolve(cwd, 'runs'), `${timestamp(date)}-${arch.replace(/[^A-Za-z0-9._-]/g, '_')}`);
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

/**
 * Creates `dir` (and its parents) and checks it can be written, before any long work starts. Throws a
 * {@link UsageError} naming the folder and the option to change when it cannot.
 * @param option the option that named the folder, for the message (`--out`).
 */
export function prepareOutputDir(dir: string, option = '--out'): string {
  const abs = resolve(dir);
  if (existsSync(abs) && !statSync(abs).isDirectory()) {
    throw new UsageError(`${option} '${dir}' is a file, not a folder`, { hint: `give a folder path with ${option}` });
  }
  try {
    mkdirParents(abs);
    accessSync(abs, constants.W_OK);
    const probe = join(abs, `.fastts-write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (err) {
    const why = writeFailureReason(err);
    throw new UsageError(`cannot write to ${option} '${dir}' (${why})`, {
      hint: `choose a writable folder with ${option}`,
      cause: err,
    });
  }
  return abs;
}

/**
 * `mkdir -p` one level at a time. (Node's `mkdirSync(path, { recursive: true })` never returns for a path under
 * /proc, where mkdir answers ENOENT for a parent that exists.)
 */
function mkdirParents(abs: string): void {
  const missing: string[] = [];
  let p = abs;
  while (!existsSync(p)) {
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const dir of missing.reverse()) mkdirSync(dir);
}

/** Says in words why creating or writing a path failed. */
function writeFailureReason(err: unknown): string {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
      return 'a part of the path is a file';
    case 'ENOENT':
      return 'the folder cannot be created there';
    case 'ENOSPC':
      return 'no space left on device';
    default:
      return code ?? (err instanceof Error ? err.message : String(err));
  }
}

/**
 * Checks that the folder holding output file `file` can be written (for `--out batch.png` etc.), creating it
 * when missing. Throws a {@link UsageError} otherwise.
 */
export function prepareOutputFile(file: string, option = '--out'): string {
  const abs = resolve(file);
  if (existsSync(abs) && statSync(abs).isDirectory()) {
    throw new UsageError(`${option} '${file}' is a folder, expected a file name`, {
      hint: `give a file path such as ${option} out.png`,
    });
  }
  try {
    prepareOutputDir(dirname(abs), option);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const why = /\(([^)]*)\)$/.exec(err.message)?.[1] ?? 'its folder is a file';
    throw new UsageError(`cannot write to ${option} '${file}' (${why})`, {
      hint: `choose a writable location with ${option}`,
      cause: err,
    });
  }
  if (existsSync(abs)) {
    try {
      accessSync(abs, constants.W_OK);
    } catch (err) {
      throw new UsageError(`cannot overwrite ${option} '${file}' (permission denied)`, {
        hint: `choose another file with ${option}`,
        cause: err,
      });
    }
  }
  return abs;
}

/** One line of `metrics.jsonl` as the CLI writes it (the run format's {@link MetricsLine}). */
export type EpochMetrics = MetricsLine;

/** Appends one JSON line per epoch to `<runDir>/metrics.jsonl` as soon as the epoch ends. */
export class MetricsLog {
  /** Path of the `metrics.jsonl` file. */
  readonly path: string;

  constructor(runDir: string) {
    this.path = join(runDir, RUN_FILES.metrics);
  }

  /** Appends `row` as one line. */
  append(row: EpochMetrics): void {
    appendJsonLine(this.path, row);
  }

  /** Reads every line written so far ([] when the file does not exist). */
  read(): EpochMetrics[] {
    return readMetrics(this.path);
  }
}

/** Reads a `metrics.jsonl` file (or the one in a run directory). */
export function readMetrics(pathOrRunDir: string): EpochMetrics[] {
  const path = pathOrRunDir.endsWith('.jsonl') ? pathOrRunDir : join(pathOrRunDir, RUN_FILES.metrics);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EpochMetrics);
}

/** The CSV text of `test_predictions.csv` / `predict --csv`: header `file,label,probability`, one row per image. */
export function predictionsCsv(rows: readonly Prediction[]): string {
  return (
    [csvRow(['file', 'label', 'probability']), ...rows.map((r) => csvRow([r.file, r.label, r.probability]))].join('\n') + '\n'
  );
}

/** Writes `value` as pretty JSON to `path`, atomically (temporary file, then rename). */
export function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Writes a file atomically and durably: a reader sees the old or the new content, never a part, even after a crash
 * (flushed before the rename). The temporary name is unique per write, so two processes writing the same file (a
 * retried queue job on another machine of a shared folder) never share one. The synchronous twin of
 * `@fastts/node-gpu`'s `writeFileAtomic`, for the run files written on exit paths.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Appends one JSON line (a whole line per write). */
export function appendJsonLine(path: string, value: unknown): void {
  appendFileSync(path, jsonLine(value));
}

/** Writes a run's `config.json` (with the run format's version), atomically. */
export function writeRunConfig(runDir: string, config: RunConfig): void {
  writeFileAtomic(join(runDir, RUN_FILES.config), runConfigText(config));
}

export type { RunStatus, StatusFile, ResumePoint, Phase, Prediction } from '@fastts/core/runs';
export { RUN_FILES } from '@fastts/core/runs';

/** The fields of `status.json` a writer chooses (the rest — pid, times — {@link RunStatusFile} fills in). */
export type StatusFields = Omit<Partial<StatusFile>, 'status' | 'pid' | 'startedAt' | 'updatedAt'>;

/** Writes `status.json` of a run, keeping `startedAt` across updates. */
export class RunStatusFile {
  readonly path: string;
  private readonly startedAt: string;
  private status: RunStatus = 'running';
  private fields: StatusFields = {};

  constructor(runDir: string, startedAt = new Date().toISOString()) {
    this.path = join(runDir, RUN_FILES.status);
    this.startedAt = startedAt;
  }

  /** Writes the status with the given fields (and only those). */
  write(status: RunStatus, extra: StatusFields = {}): void {
    this.status = status;
    this.fields = { ...extra };
    const now = new Date().toISOString();
    const body: StatusFile = { status, pid: process.pid, host: hostname(), startedAt: this.startedAt, updatedAt: now, ...extra };
    if (status !== 'running' && body.finishedAt === undefined) body.finishedAt = now;
    writeJson(this.path, body);
  }

  /** Rewrites the status with some fields changed, keeping the status and the other fields (e.g. the resume point). */
  update(extra: StatusFields): void {
    this.write(this.status, { ...this.fields, ...extra });
  }
}

/** Reads a JSON file, with a clear error naming it when missing or malformed. */
export function readJson<T>(path: string, what: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${what} '${path}' not found`, { hint: 'check the path', cause: err });
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new UsageError(`${what} '${path}' is not valid JSON`, { hint: 'it may be truncated; re-create it', cause: err });
  }
}

/**
 * Keeps the first `n` lines of a JSON Lines file (a resumed run drops what the dead process logged after its
 * checkpoint), rewriting it atomically; a missing file stays missing.
 */
export function truncateLines(path: string, n: number): void {
  if (!existsSync(path)) return;
  const lines = readFileSync(path, 'utf8').split('\n');
  const complete = lines.slice(0, -1); // the text after the last newline is an unfinished line
  if (complete.length <= n && lines.at(-1) === '') return;
  writeFileAtomic(
    path,
    complete
      .slice(0, n)
      .map((l) => `${l}\n`)
      .join(''),
  );
}

/** Whether process `pid` is alive (on Linux a zombie counts as gone). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: the signal check is all there is
  }
}

/** What a run folder says about its run (see {@link runState}). */
export interface RunState {
  /**
   * `running` only while its process is alive: a status.json saying `running` whose pid is gone (killed, crashed,
   * machine restarted) reads as `interrupted`; `unknown` without a readable status.json.
   */
  status: RunStatus | 'unknown';
  /** status.json as written, when readable. */
  file: StatusFile | undefined;
  /** status.json says `running` but its process (on this machine) is gone. */
  processGone: boolean;
  /** Where `fastts train --resume` continues, when status.json names one and its checkpoint exists. */
  resume: ResumePoint | undefined;
}

/** Reads a run folder's status.json and checks its process and checkpoint (for `--resume` and the dashboard). */
export function runState(runDir: string): RunState {
  let file: StatusFile | undefined;
  try {
    file = JSON.parse(readFileSync(join(runDir, RUN_FILES.status), 'utf8')) as StatusFile;
  } catch {
    file = undefined;
  }
  if (!file || typeof file.status !== 'string')
    return { status: 'unknown', file: undefined, processGone: false, resume: undefined };
  // The run format's rule: a pid is asked on the machine that wrote it; elsewhere a run silent for 10 minutes is gone.
  const lastWriteMs = Math.max(
    0,
    ...[RUN_FILES.status, RUN_FILES.batches].map((f) => (existsSync(join(runDir, f)) ? statSync(join(runDir, f)).mtimeMs : 0)),
  );
  const decided = decideStatus(file as unknown as Record<string, unknown>, {
    hasModel: false,
    lastWriteMs,
    now: Date.now(),
    host: hostname(),
    alive: isProcessAlive,
  });
  const processGone = file.status === 'running' && decided.status === 'interrupted';
  const resume = file.resume && existsSync(resolve(runDir, file.resume.checkpoint)) ? file.resume : undefined;
  return { status: processGone ? 'interrupted' : file.status, file, processGone, resume };
}

/**
 * A careful file downloader: streams to `<dest>.part`, resumes it with an HTTP Range request on retry, verifies
 * the size and a checksum (sha256 or md5, of the whole file or its first bytes, full or prefix), then renames into
 * place, so `dest` only ever holds a complete file. Every download goes through {@link mirrorUrl}: with
 * `FASTTS_MIRROR=<base URL>`, `https://<host>/<path>` is fetched as `<base URL>/<host>/<path>`.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import cliProgress from 'cli-progress';
import { ChecksumError, DownloadError } from './errors.js';

/** A hash algorithm {@link downloadFile} can verify. */
export type HashAlgorithm = 'sha256' | 'md5';

/** An expected checksum of a file. */
export interface Checksum {
  algorithm: HashAlgorithm;
  /** Expected digest in hex, or a prefix of it. */
  digest: string;
  /** Hash only the first this many bytes (fast.ai publishes the md5 of an archive's first 2^20 bytes). */
  firstBytes?: number;
}

/** Options of {@link downloadFile}. */
export interface DownloadOptions {
  /** Expected sha256 in hex, or a prefix of it (torchvision file names carry 8 hex digits); short for `checksum`. */
  sha256?: string;
  /** Expected checksum (takes precedence over `sha256`). */
  checksum?: Checksum;
  /** Expected size in bytes (verified; also the progress bar's total when the server announces none). */
  size?: number;
  /** Mirror base URL (default `FASTTS_MIRROR`; empty for none): see {@link mirrorUrl}. */
  mirror?: string;
  /** Attempts after the first (default 3). A retry resumes the partial file when the server supports ranges. */
  retries?: number;
  /** Delay before the first retry in ms, doubled each time (default 1000). */
  retryDelayMs?: number;
  /** Abort an attempt when no data arrives for this long (default 60 s). */
  idleTimeoutMs?: number;
  /**
   * Show a progress bar on stderr. Default: a bar when stderr is a terminal, else one line per file
   * (`fastts: downloading <label> (<size>) ...`); `false` for nothing.
   */
  progress?: boolean;
  /** Label of the progress bar (default: the file name). */
  label?: string;
  /** The fetch implementation (default the global one); tests and proxies can pass their own. */
  fetch?: typeof fetch;
}

class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** The hex digest of a file (of its first `firstBytes` bytes when given), streamed. */
export async function fileDigest(path: string, algorithm: HashAlgorithm, firstBytes?: number): Promise<string> {
  const h = createHash(algorithm);
  const range = firstBytes === undefined ? {} : { start: 0, end: Math.max(0, firstBytes - 1) };
  if (firstBytes !== 0) for await (const chunk of createReadStream(path, range)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** How a checksum is named in messages: `sha256`, `md5 of the first 1 MiB`. */
export function describeChecksum(checksum: Checksum): string {
  if (checksum.firstBytes === undefined) return checksum.algorithm;
  const n = checksum.firstBytes;
  return `${checksum.algorithm} of the first ${n % 2 ** 20 === 0 ? `${n / 2 ** 20} MiB` : `${n} bytes`}`;
}

/** A failed check of {@link checkFile}: what was checked, the expected and the actual value. */
export interface FileMismatch {
  what: string;
  expected: string;
  actual: string;
}

/** Checks a file against an expected size and checksum; `null` when it matches. */
export async function checkFile(path: string, expect: { size?: number; checksum?: Checksum }): Promise<FileMismatch | null> {
  if (expect.size !== undefined) {
    const size = await fileSize(path);
    if (size !== expect.size) return { what: 'size', expected: `${expect.size} bytes`, actual: `${size} bytes` };
  }
  const c = expect.checksum;
  if (c) {
    const actual = await fileDigest(path, c.algorithm, c.firstBytes);
    if (!actual.startsWith(c.digest.toLowerCase())) return { what: describeChecksum(c), expected: c.digest, actual };
  }
  return null;
}

/**
 * The URL actually fetched for `url`: unchanged without a mirror; with one (`FASTTS_MIRROR=<base URL>`, or the
 * `mirror` argument), `http(s)://<host>/<path>?<query>` becomes `<base URL>/<host>/<path>?<query>`. Air-gapped
 * machines and tests serve the canonical files under those paths. Throws {@link DownloadError} for a mirror that
 * is not an http(s) URL.
 */
export function mirrorUrl(url: string, mirror: string | undefined = process.env.FASTTS_MIRROR): string {
  if (!mirror) return url;
  let base: URL;
  try {
    base = new URL(mirror);
  } catch {
    base = new URL('invalid:');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new DownloadError(
      url,
      `FASTTS_MIRROR='${mirror}' is not an http(s) URL; set it to a base URL such as http://mirror.example/fastts, or unset it`,
    );
  }
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return url;
  return `${mirror.replace(/\/+$/, '')}/${target.host}${target.pathname}${target.search}`;
}

/** Whether a status is worth retrying (server errors, timeouts, throttling). */
function retryable(e: unknown): boolean {
  if (e instanceof HttpStatusError) return e.status >= 500 || e.status === 408 || e.status === 429;
  return !(e instanceof ChecksumError);
}

/**
 * Downloads `url` (through the mirror, see {@link mirrorUrl}) to `dest`, creating its folder: streamed into
 * `dest + '.part'`, resumed on retry (and on the next call, from a `.part` left by an interrupted one), checked
 * against the announced size, `size` and `checksum`/`sha256`, then atomically renamed. Throws
 * {@link DownloadError} when all attempts fail and {@link ChecksumError} on a mismatch (the partial file is deleted).
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<void> {
  const source = mirrorUrl(url, options.mirror);
  const checksum = options.checksum ?? (options.sha256 ? { algorithm: 'sha256' as const, digest: options.sha256 } : undefined);
  const retries = options.retries ?? 3;
  const doFetch = options.fetch ?? globalThis.fetch;
  const part = `${dest}.part`;
  await mkdir(dirname(dest), { recursive: true });
  const showProgress: ProgressMode =
    options.progress === false ? 'none' : options.progress || process.stderr.isTTY ? 'bar' : 'line';
  const label = options.label ?? dest.split(/[\\/]/).pop() ?? dest;
  let lastError: unknown;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, (options.retryDelayMs ?? 1000) * 2 ** (attempt - 1)));
    try {
      await attemptDownload(source, part, doFetch, options.idleTimeoutMs ?? 60_000, showProgress, label, options.size);
      const bad = await checkFile(part, { size: options.size, checksum });
      if (bad) {
        await rm(part, { force: true });
        throw new ChecksumError(source, bad.expected, bad.actual, bad.what);
      }
      await rename(part, dest);
      return;
    } catch (e) {
      lastError = e;
      if (!retryable(e)) break;
    }
  }
  if (lastError instanceof ChecksumError) throw lastError;
  const reason = (lastError as Error)?.message ?? String(lastError);
  const via =
    source === url ? '' : ` (the mirror's copy of ${url}; FASTTS_MIRROR=${options.mirror ?? process.env.FASTTS_MIRROR})`;
  throw new DownloadError(source, `${reason}${via}`, { cause: lastError });
}

/** How a download shows progress: a bar (terminal), one line per file (logs), or nothing. */
type ProgressMode = 'bar' | 'line' | 'none';

async function attemptDownload(
  url: string,
  part: string,
  doFetch: typeof fetch,
  idleTimeoutMs: number,
  showProgress: ProgressMode,
  label: string,
  expectedSize: number | undefined,
): Promise<void> {
  let have = await fileSize(part);
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(new Error(`no data for ${idleTimeoutMs} ms`)), idleTimeoutMs);
  const touch = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no data for ${idleTimeoutMs} ms`)), idleTimeoutMs);
  };
  let bar: cliProgress.SingleBar | null = null;
  try {
    const res = await doFetch(url, {
      headers: have > 0 ? { Range: `bytes=${have}-` } : {},
      signal: controller.signal,
      redirect: 'follow',
    });
    if (res.status === 416 && have > 0) {
      // Range beyond the end: the partial file is probably complete; let verification decide.
      await res.body?.cancel();
      return;
    }
    if (res.status === 206) {
      const start = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1];
      if (Number(start) !== have) {
        await res.body?.cancel();
        await rm(part, { force: true });
        throw new Error(`server resumed at byte ${start ?? '?'} instead of ${have}; restarting`);
      }
    } else if (res.ok) {
      have = 0; // the server ignored the range: start over
    } else {
      await res.body?.cancel();
      throw new HttpStatusError(res.status);
    }
    const length = Number(res.headers.get('content-length') ?? NaN);
    const total = Number.isFinite(length) ? have + length : (expectedSize ?? NaN);
    if (showProgress === 'line') {
      const size = Number.isFinite(total) ? ` (${(total / 1e6).toFixed(1)} MB)` : '';
      process.stderr.write(
        `fastts: downloading ${label}${size}${have > 0 ? `, resuming at ${(have / 1e6).toFixed(1)} MB` : ''} from ${url}\n`,
      );
    } else if (showProgress === 'bar') {
      bar = new cliProgress.SingleBar(
        {
          format: `${label} [{bar}] {percentage}% | {value}/{total} MB`,
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Number.isFinite(total) ? Math.ceil(total / 1e6) : 0, Math.floor(have / 1e6));
    }
    const out = createWriteStream(part, { flags: have > 0 ? 'a' : 'w' });
    let received = have;
    try {
      if (res.body) {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          touch();
          received += chunk.length;
          if (!out.write(chunk)) await once(out, 'drain');
          bar?.update(Math.floor(received / 1e6));
        }
      }
    } finally {
      out.end();
      await once(out, 'close');
    }
    if (Number.isFinite(length) && received !== have + length) {
      throw new Error(`received ${received} of ${total} bytes`);
    }
  } finally {
    clearTimeout(timer);
    bar?.stop();
  }
}

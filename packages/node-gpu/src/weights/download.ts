/**
 * A careful file downloader: streams to `<dest>.part`, resumes it with an HTTP Range request on retry, verifies
 * the sha256 (full or prefix) and size, then renames into place, so `dest` only ever holds a complete file.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import cliProgress from 'cli-progress';
import { ChecksumError, DownloadError } from './errors.js';

/** Options of {@link downloadFile}. */
export interface DownloadOptions {
  /** Expected sha256 in hex, or a prefix of it (torchvision file names carry 8 hex digits). */
  sha256?: string;
  /** Attempts after the first (default 3). A retry resumes the partial file when the server supports ranges. */
  retries?: number;
  /** Delay before the first retry in ms, doubled each time (default 1000). */
  retryDelayMs?: number;
  /** Abort an attempt when no data arrives for this long (default 60 s). */
  idleTimeoutMs?: number;
  /** Show a progress bar on stderr (default: when stderr is a terminal). */
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

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Whether a status is worth retrying (server errors, timeouts, throttling). */
function retryable(e: unknown): boolean {
  if (e instanceof HttpStatusError) return e.status >= 500 || e.status === 408 || e.status === 429;
  return !(e instanceof ChecksumError);
}

/**
 * Downloads `url` to `dest` (creating its folder): streamed into `dest + '.part'`, resumed on retry, checked
 * against `sha256` and the announced size, then atomically renamed. Throws {@link DownloadError} when all
 * attempts fail and {@link ChecksumError} on a hash mismatch (the partial file is deleted).
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<void> {
  const retries = options.retries ?? 3;
  const doFetch = options.fetch ?? globalThis.fetch;
  const part = `${dest}.part`;
  await mkdir(dirname(dest), { recursive: true });
  const showProgress = options.progress ?? Boolean(process.stderr.isTTY);
  const label = options.label ?? dest.split(/[\\/]/).pop() ?? dest;
  let lastError: unknown;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, (options.retryDelayMs ?? 1000) * 2 ** (attempt - 1)));
    try {
      await attemptDownload(url, part, doFetch, options.idleTimeoutMs ?? 60_000, showProgress, label);
      if (options.sha256) {
        const actual = await sha256Of(part);
        if (!actual.startsWith(options.sha256.toLowerCase())) {
          await rm(part, { force: true });
          throw new ChecksumError(url, options.sha256, actual);
        }
      }
      await rename(part, dest);
      return;
    } catch (e) {
      lastError = e;
      if (!retryable(e)) break;
    }
  }
  if (lastError instanceof ChecksumError) throw lastError;
  throw new DownloadError(url, (lastError as Error)?.message ?? String(lastError), { cause: lastError });
}

async function attemptDownload(
  url: string,
  part: string,
  doFetch: typeof fetch,
  idleTimeoutMs: number,
  showProgress: boolean,
  label: string,
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
    const total = Number.isFinite(length) ? have + length : NaN;
    if (showProgress) {
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
    if (Number.isFinite(total) && received !== total) {
      throw new Error(`received ${received} of ${total} bytes`);
    }
  } finally {
    clearTimeout(timer);
    bar?.stop();
  }
}

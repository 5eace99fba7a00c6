/**
 * Saving a run trained in the browser into the runs directory (`POST /api/runs`): the only write the dashboard
 * does. Same-origin only, multipart only, size-limited as a whole and per part, every part of a known name and
 * checked for its type by content; files are written under fixed names into a new run directory.
 */
import { runConfigText, statusText, type RunConfig } from '@fastts/core/runs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runsDir } from './config';
import { DashboardError, UploadRejectedError } from './errors';
import { obj, parseJsonl, str } from './parse';
import { isPlainName, realDir } from './safePath';

/** Upload limits (bytes / counts). The whole upload's limit can be lowered with `FASTTS_DASHBOARD_MAX_UPLOAD_BYTES`. */
export const UPLOAD_LIMITS = {
  total: 256 * 1024 * 1024,
  model: 200 * 1024 * 1024,
  json: 16 * 1024 * 1024,
  thumb: 512 * 1024,
  thumbs: 5000,
} as const;

const JSON_PARTS = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  batches: 'batches.jsonl',
  interpretation: 'interpretation.json',
} as const;

/** Rejects cross-site requests: the browser must say the request comes from the dashboard's own origin. */
export function assertSameOrigin(req: Request): void {
  const site = req.headers.get('sec-fetch-site');
  const origin = req.headers.get('origin');
  const host = req.headers.get('host');
  const sameSite = site === null || site === 'same-origin';
  const sameOrigin = origin !== null && host !== null && (origin === `http://${host}` || origin === `https://${host}`);
  if (!sameSite || !sameOrigin)
    throw new DashboardError('uploads are accepted only from the dashboard itself (same origin)', 403);
}

function isSafetensors(b: Uint8Array): boolean {
  if (b.length < 10) return false;
  const n = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  return n > 1n && n <= BigInt(b.length - 8) && b[8] === 0x7b;
}

const isJpeg = (b: Uint8Array) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Creates a new run directory `browser-<stamp>-<arch>` (suffixed when taken) and returns its id and path. */
async function newRunDir(arch: string): Promise<{ id: string; dir: string }> {
  await mkdir(runsDir(), { recursive: true });
  const root = await realDir(runsDir());
  if (!root) throw new DashboardError('the runs directory cannot be created', 500);
  const base = `browser-${stamp()}-${arch}`;
  for (let i = 1; i < 100; i++) {
    const id = i === 1 ? base : `${base}-${i}`;
    const dir = join(/*turbopackIgnore: true*/ root, id);
    try {
      await mkdir(dir);
      return { id, dir };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new DashboardError('could not find a free run directory name', 500);
}

/** Reads a request body, stopping with 413 as soon as it passes `limit` bytes (whatever Content-Length said). */
async function readLimited(req: Request, limit: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > limit) {
      await reader.cancel().catch(() => undefined);
      throw new UploadRejectedError(`the upload is over the ${limit}-byte limit`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Handles `POST /api/runs`: validates the upload and writes it as a finished run. Returns the new run's id. */
export async function saveBrowserRun(req: Request): Promise<{ id: string }> {
  assertSameOrigin(req);
  const type = req.headers.get('content-type') ?? '';
  if (!type.startsWith('multipart/form-data')) throw new UploadRejectedError('send the run as multipart/form-data', 415);
  const limit = Math.min(UPLOAD_LIMITS.total, Number(process.env.FASTTS_DASHBOARD_MAX_UPLOAD_BYTES) || Infinity);
  const length = Number(req.headers.get('content-length') ?? NaN);
  if (length > limit) throw new UploadRejectedError(`the upload is ${length} bytes, over the ${limit}-byte limit`);
  const body = await readLimited(req, limit);
  let form: FormData;
  try {
    form = await new Response(body as BlobPart, { headers: { 'content-type': type } }).formData();
  } catch {
    throw new UploadRejectedError('the upload is not valid multipart/form-data', 400);
  }
  const texts: Partial<Record<keyof typeof JSON_PARTS, string>> = {};
  let model: Uint8Array | null = null;
  const thumbs = new Map<number, Uint8Array>();
  for (const [name, value] of form.entries()) {
    if (name in JSON_PARTS) {
      const text = typeof value === 'string' ? value : await value.text();
      if (text.length > UPLOAD_LIMITS.json) throw new UploadRejectedError(`${name} is over the ${UPLOAD_LIMITS.json}-byte limit`);
      texts[name as keyof typeof JSON_PARTS] = text;
    } else if (name === 'model' && typeof value !== 'string') {
      if (value.size > UPLOAD_LIMITS.model)
        throw new UploadRejectedError(`the model is over the ${UPLOAD_LIMITS.model}-byte limit`);
      model = new Uint8Array(await value.arrayBuffer());
      if (!isSafetensors(model)) throw new UploadRejectedError('the model is not a safetensors export (learn.export())', 415);
    } else if (/^thumb:(0|[1-9]\d{0,5})$/.test(name) && typeof value !== 'string') {
      const i = Number(name.slice(6));
      if (i >= UPLOAD_LIMITS.thumbs) throw new UploadRejectedError(`too many thumbnails (limit ${UPLOAD_LIMITS.thumbs})`);
      if (value.size > UPLOAD_LIMITS.thumb)
        throw new UploadRejectedError(`thumbnail ${i} is over the ${UPLOAD_LIMITS.thumb}-byte limit`);
      const b = new Uint8Array(await value.arrayBuffer());
      if (!isJpeg(b)) throw new UploadRejectedError(`thumbnail ${i} is not a JPEG`, 415);
      thumbs.set(i, b);
    } else {
      throw new UploadRejectedError(
        `unexpected part ${JSON.stringify(name.slice(0, 40))}: send config, metrics, batches, interpretation, model and thumb:<i>`,
        400,
      );
    }
  }
  if (!texts.config || !texts.metrics || !model)
    throw new UploadRejectedError('a run needs at least config, metrics and model', 400);
  let config: Record<string, unknown> | null;
  let interp: Record<string, unknown> | null = null;
  try {
    config = obj(JSON.parse(texts.config));
    if (texts.interpretation) interp = obj(JSON.parse(texts.interpretation));
  } catch {
    throw new UploadRejectedError('config or interpretation is not valid JSON', 400);
  }
  const arch = str(config?.arch);
  if (!config || !arch || !isPlainName(arch)) throw new UploadRejectedError('config.arch must name the architecture', 400);
  for (const k of ['metrics', 'batches'] as const) {
    if (texts[k] && parseJsonl(texts[k]!, false).bad > 0)
      throw new UploadRejectedError(`${k} has lines that are not JSON objects`, 400);
  }
  if (interp && Array.isArray(interp.items)) {
    interp.items = interp.items.map((it, i) => ({ ...(obj(it) ?? {}), thumb: thumbs.has(i) ? `thumbs/valid/${i}.jpg` : null }));
  }
  const { id, dir } = await newRunDir(arch);
  const at = (...parts: string[]) => join(/*turbopackIgnore: true*/ dir, ...parts);
  const now = new Date().toISOString();
  await writeFile(
    at('config.json'),
    runConfigText({ ...(config as unknown as RunConfig), source: 'browser', createdAt: str(config.createdAt) ?? now }),
  );
  await writeFile(at('metrics.jsonl'), texts.metrics.endsWith('\n') ? texts.metrics : `${texts.metrics}\n`);
  if (texts.batches) await writeFile(at('batches.jsonl'), texts.batches);
  if (interp) await writeFile(at('interpretation.json'), JSON.stringify(interp));
  await mkdir(at('model'));
  await writeFile(at('model', 'export.safetensors'), model);
  if (thumbs.size) {
    await mkdir(at('thumbs', 'valid'), { recursive: true });
    for (const [i, b] of thumbs) await writeFile(at('thumbs', 'valid', `${i}.jpg`), b);
  }
  await writeFile(
    at('status.json'),
    statusText({ status: 'finished', startedAt: str(config.createdAt) ?? now, finishedAt: now, updatedAt: now }),
  );
  return { id };
}

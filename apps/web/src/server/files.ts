/**
 * Serving files from a run directory or the weight cache: allow-listed types only, real-path checked,
 * with headers that stop a browser from sniffing or executing anything.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { extname, join } from 'node:path';
import { modelsDir } from './config';
import { NotFoundError, UnsupportedFileError } from './errors';
import { resolveRunDir } from './runs';
import { assertPlainName, isPlainName, resolveInside } from './safePath';

/** Content types of the files served from run directories, by extension. Nothing else is served. */
export const RUN_FILE_TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.json': 'application/json',
  '.jsonl': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.bin': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
};

/** Content types of weight-cache files; shard files named in a `model.json` manifest may have no extension. */
export const MODEL_FILE_TYPES: Readonly<Record<string, string>> = {
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
  '.pth': 'application/octet-stream',
};

function fileResponse(real: string, size: number, type: string, name: string): Response {
  const stream = Readable.toWeb(createReadStream(real)) as ReadableStream<Uint8Array>;
  const headers: Record<string, string> = {
    'content-type': type,
    'content-length': String(size),
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
    'cache-control': 'no-cache',
  };
  if (!type.startsWith('image/') && !type.startsWith('application/json')) {
    headers['content-disposition'] = `inline; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`;
  }
  return new Response(stream, { status: 200, headers });
}

/** The response for `GET /api/runs/<id>/files/<...segments>`. */
export async function serveRunFile(id: string, segments: readonly string[]): Promise<Response> {
  const dir = await resolveRunDir(id);
  for (const s of segments) assertPlainName('file name', s);
  const name = segments[segments.length - 1] ?? '';
  const type = RUN_FILE_TYPES[extname(name).toLowerCase()];
  if (!type) throw new UnsupportedFileError(name, Object.keys(RUN_FILE_TYPES));
  const real = await resolveInside(dir, segments, { kind: `file ${segments.join('/')} of run ${id}` });
  const st = await stat(real);
  return fileResponse(real, st.size, type, name);
}

/** The weight files a cached arch's `model.json` names (its `weightsManifest` paths). */
async function manifestPaths(modelJson: string): Promise<Set<string>> {
  try {
    const m = JSON.parse(await readFile(modelJson, 'utf8')) as { weightsManifest?: { paths?: unknown[] }[] };
    return new Set((m.weightsManifest ?? []).flatMap((g) => (g.paths ?? []).filter((p): p is string => typeof p === 'string')));
  } catch {
    return new Set();
  }
}

/** The response for `GET /api/models/<arch>/<file>`: a file of the weight cache `FASTTS_HOME/models/<arch>/`. */
export async function serveModelFile(arch: string, segments: readonly string[]): Promise<Response> {
  assertPlainName('architecture', arch);
  for (const s of segments) assertPlainName('file name', s);
  const name = segments.join('/');
  const archDir = await resolveInside(modelsDir(), [arch], {
    kind: `architecture ${arch} in the weight cache`,
    expect: 'directory',
  });
  if (!(await isArchDir(archDir))) throw new NotFoundError(`architecture ${arch} in the weight cache`);
  let type = MODEL_FILE_TYPES[extname(name).toLowerCase()];
  if (!type) {
    const listed = await manifestPaths(join(/*turbopackIgnore: true*/ archDir, 'model.json'));
    if (!listed.has(name)) throw new UnsupportedFileError(name, [...Object.keys(MODEL_FILE_TYPES), 'shards named in model.json']);
    type = 'application/octet-stream';
  }
  const real = await resolveInside(archDir, segments, { kind: `weight file ${name} of ${arch}` });
  const st = await stat(real);
  return fileResponse(real, st.size, type, segments[segments.length - 1]!);
}

/** True when a cache folder holds weights (a `model.json`, `.safetensors` or `.pth`), not other files. */
async function isArchDir(dir: string): Promise<boolean> {
  const files = await readdir(dir).catch(() => [] as string[]);
  return files.some((f) => f === 'model.json' || f.endsWith('.safetensors') || f.endsWith('.pth'));
}

/** The architectures whose weights are in the cache (folders of `FASTTS_HOME/models` holding a `model.json` or weights). */
export async function listCachedArchs(): Promise<string[]> {
  const entries = await readdir(modelsDir(), { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    if (isPlainName(e.name) && (await isArchDir(join(/*turbopackIgnore: true*/ modelsDir(), e.name)))) out.push(e.name);
  }
  return out.sort();
}

/** The files of a cached architecture that {@link serveModelFile} would serve (model.json, its shards, weights). */
export async function listArchFiles(arch: string): Promise<string[]> {
  assertPlainName('architecture', arch);
  const archDir = await resolveInside(modelsDir(), [arch], {
    kind: `architecture ${arch} in the weight cache`,
    expect: 'directory',
  });
  if (!(await isArchDir(archDir))) throw new NotFoundError(`architecture ${arch} in the weight cache`);
  const listed = await manifestPaths(join(/*turbopackIgnore: true*/ archDir, 'model.json'));
  const names = await readdir(archDir);
  return names
    .filter((n) => isPlainName(n) && (MODEL_FILE_TYPES[extname(n).toLowerCase()] !== undefined || listed.has(n)))
    .sort();
}

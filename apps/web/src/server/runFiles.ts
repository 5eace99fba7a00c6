/**
 * Reading the files of one run directory safely: the run id checked and resolved inside the runs directory, every
 * file through {@link resolveInside} (symlinks out of the run read as missing), size-capped, JSON parsed tolerantly.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { runsDir } from './config';
import { obj } from './parse';
import { assertPlainName, isPlainName, resolveInside } from './safePath';

/** Largest run file the dashboard parses (a bigger one is reported, not read). */
export const MAX_RUN_FILE_BYTES = 32 * 1024 * 1024;

/** Resolves a run id to its real directory inside the runs directory (400 for a bad id, 404 when absent). */
export async function resolveRunDir(id: string): Promise<string> {
  assertPlainName('run id', id);
  return resolveInside(runsDir(), [id], { kind: `run ${id}`, expect: 'directory' });
}

/** A run file's text with the size and mtime it was read at. */
export interface FileText {
  text: string;
  mtimeMs: number;
  size: number;
}

/**
 * Reads a run file by its relative path (plain-name segments), or null when missing/escaping/too big. `runDir` is
 * the run's real path (from {@link resolveRunDir}).
 */
export async function readRunFile(runDir: string, rel: string, warnings: string[]): Promise<FileText | null> {
  let real: string;
  try {
    real = await resolveInside(runDir, rel.split('/'), { kind: rel, rootIsReal: true });
  } catch {
    return null;
  }
  const st = await stat(real);
  if (st.size > MAX_RUN_FILE_BYTES) {
    warnings.push(`${rel} is ${st.size} bytes, over the ${MAX_RUN_FILE_BYTES}-byte limit: not read`);
    return null;
  }
  return { text: await readFile(real, 'utf8'), mtimeMs: st.mtimeMs, size: st.size };
}

/** Parses a JSON file, adding a warning (not throwing) when it is malformed. */
export function parseJson(f: FileText | null, name: string, warnings: string[]): Record<string, unknown> | null {
  if (!f) return null;
  try {
    const o = obj(JSON.parse(f.text));
    if (!o) warnings.push(`${name} is not a JSON object: ignored`);
    return o;
  } catch {
    warnings.push(`${name} is not valid JSON (still being written?): ignored`);
    return null;
  }
}

/** Relative paths (with `/`) of the files under `root/sub`, `maxDepth` levels deep, plain names only, sorted. */
export async function listFiles(root: string, sub: string, maxDepth = 2): Promise<string[]> {
  const out: string[] = [];
  async function walk(dir: string, depth: number) {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!isPlainName(e.name)) continue;
      const p = join(/*turbopackIgnore: true*/ dir, e.name);
      if (e.isDirectory() && depth < maxDepth) await walk(p, depth + 1);
      else if (e.isFile()) out.push(relative(root, p).split(sep).join('/'));
    }
  }
  await walk(join(/*turbopackIgnore: true*/ root, sub), 1);
  return out.sort();
}

/** The files and folders whose changes a run page follows (what it shows). */
export const WATCHED_FILES = [
  'config.json',
  'status.json',
  'metrics.jsonl',
  'batches.jsonl',
  'interpretation.json',
  'test_predictions.csv',
  'model',
] as const;

/** `size:mtime` of each of `names` inside `dir` (`-` for a missing one), joined: a change detector that reads nothing. */
export async function statFingerprint(dir: string, names: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    names.map(async (f) => {
      const st = await stat(join(/*turbopackIgnore: true*/ dir, f)).catch(() => null);
      return st ? `${st.size}:${st.mtimeMs}` : '-';
    }),
  );
  return parts.join('|');
}

/** What a run page's fingerprint stats: the folder (files added), the watched files, the thumbnail folders. */
const PAGE_FINGERPRINT = ['.', ...WATCHED_FILES, 'thumbs/valid', 'thumbs/test'];

/** A cheap fingerprint of what a run page shows (sizes and mtimes), for change detection without reading. */
export async function runFingerprint(id: string): Promise<string> {
  return statFingerprint(await resolveRunDir(id), PAGE_FINGERPRINT);
}

/** Checks extracted files against the git blob ids of a pinned commit. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** A file's git blob id: the sha1 of `blob <size>\0` followed by its bytes (what `git hash-object` prints). */
export async function gitBlobId(path: string): Promise<string> {
  const { size } = await stat(path);
  const h = createHash('sha1').update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** What {@link verifyFiles} found. */
export interface FileVerification {
  /** Listed files that are absent (paths relative to the folder, `/`-separated). */
  missing: string[];
  /** Files whose bytes differ: [path, actual blob id, expected blob id]. */
  differing: Array<[string, string, string]>;
  /** Files present but not listed. */
  unexpected: string[];
}

async function listFiles(dir: string, root = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p, root)));
    else out.push(relative(root, p).split(sep).join('/'));
  }
  return out;
}

/** Compares the files under `dir` with `files` ([path, blob id, ...]): missing, differing and unlisted ones. */
export async function verifyFiles(
  dir: string,
  files: ReadonlyArray<readonly [string, string, ...unknown[]]>,
): Promise<FileVerification> {
  const present = new Set(await listFiles(dir));
  const result: FileVerification = { missing: [], differing: [], unexpected: [] };
  const listed = new Set<string>();
  for (const [path, expected] of files) {
    listed.add(path);
    if (!present.has(path)) {
      result.missing.push(path);
      continue;
    }
    const actual = await gitBlobId(join(dir, path));
    if (actual !== expected) result.differing.push([path, actual, expected]);
  }
  result.unexpected = [...present].filter((p) => !listed.has(p)).sort();
  return result;
}

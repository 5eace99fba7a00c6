/**
 * Strict resolution of user-supplied names (run ids, file names, architecture names) to files inside a root
 * folder. Every name is checked lexically (plain names only: no separators, no `..`, no percent-encoding, no
 * leading dot, no NUL) and then the resolved file's real path (symlinks followed) must still lie inside the real
 * path of the root: a symlink that points outside answers "not found", exactly like a missing file, so that
 * nothing about the outside is revealed.
 */
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { InvalidNameError, NotFoundError } from './errors';

/** A plain name: starts with a letter, digit or `_`, then letters, digits, `.`, `_`, `-`, `+`, `=`, `@`, `,`. */
const PLAIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+=@,-]{0,199}$/;

/** True when `name` is a plain name that is safe to join onto a folder. */
export function isPlainName(name: string): boolean {
  return PLAIN_NAME.test(name) && !name.includes('..');
}

/** Throws {@link InvalidNameError} unless `name` is a plain name. */
export function assertPlainName(kind: string, name: string): string {
  if (typeof name !== 'string' || !isPlainName(name)) throw new InvalidNameError(kind, String(name));
  return name;
}

/** True when `child` is `root` itself or lies inside it (both real, absolute paths). */
export function isInside(root: string, child: string): boolean {
  return child === root || child.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** The real path of a folder, or null when it does not exist. */
export async function realDir(dir: string): Promise<string | null> {
  try {
    const real = await realpath(dir);
    return (await stat(real)).isDirectory() ? real : null;
  } catch {
    return null;
  }
}

export interface ResolveOptions {
  /** What the segments name, for error messages ("run", "file"...). */
  kind: string;
  /** Require a regular file (default) or a directory at the end. */
  expect?: 'file' | 'directory';
  /** `root` is already a real path (from an earlier resolution): skip resolving it again. */
  rootIsReal?: boolean;
}

/**
 * Resolves `segments` (each a plain name) under `root` and returns the real path, guaranteed to be inside the
 * real path of `root`. Throws {@link InvalidNameError} (400) for a bad name, {@link NotFoundError} (404) when
 * the target is missing, of the wrong kind, or escapes the root through a symlink.
 */
export async function resolveInside(root: string, segments: readonly string[], opts: ResolveOptions): Promise<string> {
  if (segments.length === 0) throw new NotFoundError(opts.kind);
  for (const s of segments) assertPlainName(opts.kind, s);
  const rootReal = opts.rootIsReal ? root : await realDir(root);
  if (!rootReal) throw new NotFoundError(opts.kind);
  let real: string;
  try {
    real = await realpath(join(/*turbopackIgnore: true*/ rootReal, ...segments));
  } catch {
    throw new NotFoundError(opts.kind);
  }
  if (!isInside(rootReal, real) || real === rootReal) throw new NotFoundError(opts.kind);
  const st = await stat(real).catch(() => null);
  const want = opts.expect ?? 'file';
  if (!st || (want === 'file' ? !st.isFile() : !st.isDirectory())) throw new NotFoundError(opts.kind);
  return real;
}

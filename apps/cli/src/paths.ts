/** Checks on the paths named on the command line, failing early with a usage error that says what to do. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { UsageError } from './errors.js';

/** Resolves `path` against `cwd` and checks it is an existing folder. */
export function requireDir(path: string, cwd: string, what: string, hint: string): string {
  const abs = resolve(cwd, path);
  if (!existsSync(abs)) throw new UsageError(`${what} '${path}' does not exist`, { hint });
  if (!statSync(abs).isDirectory()) throw new UsageError(`${what} '${path}' is a file, not a folder`, { hint });
  return abs;
}

/** Resolves `path` against `cwd` and checks it exists (file or folder). */
export function requirePath(path: string, cwd: string, what: string, hint: string): string {
  const abs = resolve(cwd, path);
  if (!existsSync(abs)) throw new UsageError(`${what} '${path}' does not exist`, { hint });
  return abs;
}

/** File extensions `predict` picks up inside folders. */
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff', '.avif']);

/** One image to classify: its absolute path and the path shown to the user. */
export interface ImageInput {
  path: string;
  display: string;
}

/**
 * Expands `predict`'s inputs: files are taken as given; folders are searched recursively for image files, in
 * sorted order. Throws a usage error for a path that does not exist or a folder without images.
 */
export function expandImageInputs(inputs: readonly string[], cwd: string): ImageInput[] {
  const out: ImageInput[] = [];
  for (const input of inputs) {
    const abs = requirePath(input, cwd, 'image or folder', 'give image files or folders holding images');
    if (statSync(abs).isDirectory()) {
      const found = listImages(abs);
      if (found.length === 0) {
        throw new UsageError(`folder '${input}' holds no images (${[...IMAGE_EXTENSIONS].join(', ')})`, {
          hint: 'give image files or folders holding images',
        });
      }
      for (const f of found) out.push({ path: f, display: join(input, relative(abs, f)) });
    } else {
      out.push({ path: abs, display: input });
    }
  }
  return out;
}

/** Image files under `dir`, recursively, sorted by path (hidden files skipped). */
export function listImages(dir: string): string[] {
  const files: string[] = [];
  const walk = (d: string) => {
    const entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())) files.push(p);
    }
  };
  walk(dir);
  return files;
}

/** A path as shown to the user: relative to `cwd` when it lies inside it, else absolute. */
export function displayPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  if (rel === '') return '.';
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

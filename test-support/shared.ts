/**
 * Where tests find the read-only shared data (datasets, pretrained weights, fixtures).
 * Default: `../shared` next to the repository root; override with `FASTTS_SHARED=/path/to/shared`.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding the root package.json). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The shared data folder. */
export const SHARED_DIR = resolve(process.env.FASTTS_SHARED ?? join(REPO_ROOT, '..', 'shared'));

/** The doraemon-walle dataset of the reference tutorial. */
export const DORAEMON_WALLE = join(SHARED_DIR, 'datasets', 'doraemon-walle');

/** The pre-filled weight cache (use as FASTTS_HOME in tests). */
export const WEIGHTS_HOME = SHARED_DIR;

/** Throws a clear error when the shared folder is missing, instead of obscure ENOENTs deep in a test. */
export function requireShared(): string {
  if (!existsSync(SHARED_DIR)) {
    throw new Error(`shared data folder not found at ${SHARED_DIR}: set FASTTS_SHARED to its location`);
  }
  return SHARED_DIR;
}

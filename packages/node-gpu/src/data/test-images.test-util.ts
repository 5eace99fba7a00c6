/** Test helpers: temp folders with real JPEGs from doraemon-walle (copied into /tmp, never into the repo). */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DORAEMON_WALLE } from '../../../../test-support/shared.js';

/** A few real JPEGs of each class. */
export function realJpegs(cls: 'doraemon' | 'walle', n: number): string[] {
  const dir = join(DORAEMON_WALLE, 'train', cls);
  return readdirSync(dir)
    .sort()
    .slice(0, n)
    .map((f) => join(dir, f));
}

/** A fresh temp folder; `cleanup()` removes it. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fastts-data-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a file (bytes or a copy of `from`), creating folders. */
export function put(root: string, rel: string, content: Uint8Array | string | { copyOf: string }): string {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  if (typeof content === 'object' && 'copyOf' in content) copyFileSync(content.copyOf, p);
  else writeFileSync(p, content);
  return p;
}

/** A small valid data set: train/{doraemon,walle} x3, valid/{doraemon,walle} x1, from real JPEGs. */
export function smallDataset(root: string, valid = 'valid'): void {
  for (const cls of ['doraemon', 'walle'] as const) {
    realJpegs(cls, 4).forEach((f, i) => put(root, `${i < 3 ? 'train' : valid}/${cls}/${i}.jpg`, { copyOf: f }));
  }
}

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveDataSettings } from './data.js';
import { UsageError } from './errors.js';
import type { DataOptions } from './options.js';

const tmp = mkdtempSync(join(tmpdir(), 'fastts-cli-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const defaults: DataOptions = { train: 'train', valid: 'valid', test: 'test', size: 224, bs: 64 };

function folder(...parts: string[]): string {
  const dir = join(tmp, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('resolveDataSettings', () => {
  it('resolves a fast.ai ImageNet-layout folder, picks up test/ when present and draws a seed', () => {
    const root = folder('ok');
    folder('ok', 'train', 'cat');
    folder('ok', 'valid', 'cat');
    const s = resolveDataSettings('ok', defaults, tmp);
    expect(s).toMatchObject({ dataDir: root, train: 'train', valid: 'valid', size: 224, bs: 64, augment: true });
    expect(s.test).toBeUndefined();
    expect(Number.isInteger(s.seed)).toBe(true);
    folder('ok', 'test');
    expect(resolveDataSettings(root, { ...defaults, seed: 3 }, tmp)).toMatchObject({ test: 'test', seed: 3 });
  });

  it('names the problem and the fix for each layout mistake', () => {
    /** The one line the CLI prints for the error resolving `dir` throws. */
    const bad =
      (dir: string, opts: Partial<DataOptions> = {}) =>
      () => {
        try {
          resolveDataSettings(dir, { ...defaults, ...opts }, tmp);
        } catch (e) {
          expect(e).toBeInstanceOf(UsageError);
          throw new Error((e as UsageError).line);
        }
      };
    expect(bad('missing')).toThrow(/data folder 'missing' does not exist; give the folder that holds train\/<class>/);
    writeFileSync(join(tmp, 'afile'), 'x');
    expect(bad('afile')).toThrow("data folder 'afile' is a file, not a folder");
    folder('no-train', 'images');
    expect(bad('no-train')).toThrow("data folder 'no-train' has no 'train' folder (its subfolders are: images)");
    folder('no-valid', 'train', 'cat');
    expect(bad('no-valid')).toThrow(
      /has no 'valid' folder \(its subfolders are: train\); name the validation folder with --valid, or .* --valid-pct 0\.2/,
    );
    expect(bad('no-valid', { validPct: 0.2 })).not.toThrow();
    folder('flat', 'train');
    folder('flat', 'valid', 'cat');
    writeFileSync(join(tmp, 'flat', 'train', 'a.jpg'), 'x');
    expect(bad('flat')).toThrow(
      /'flat\/train' has no class subfolders; put each class's images in its own folder, e\.g\. flat\/train\/<class>\/image\.jpg/,
    );
    folder('pct-flat', 'test');
    expect(bad('pct-flat', { validPct: 0.2 })).toThrow("data folder 'pct-flat' has no class subfolders");
    expect(bad('ok', { test: 'tst', testRequired: true })).toThrow(/test folder 'ok\/tst' does not exist/);
  });
});

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidNameError, NotFoundError } from './errors';
import { isPlainName, resolveInside } from './safePath';

let base: string;
let root: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'fastts-web-safe-'));
  root = join(base, 'runs');
  mkdirSync(join(root, 'run1', 'thumbs'), { recursive: true });
  writeFileSync(join(root, 'run1', 'metrics.jsonl'), '{}\n');
  writeFileSync(join(base, 'secret.txt'), 'outside');
  mkdirSync(join(base, 'outside-run'));
  writeFileSync(join(base, 'outside-run', 'config.json'), '{"arch":"x"}');
  symlinkSync(join(base, 'secret.txt'), join(root, 'run1', 'leak.txt'));
  symlinkSync(join(base, 'outside-run'), join(root, 'linked-run'));
  symlinkSync(join(root, 'run1', 'metrics.jsonl'), join(root, 'run1', 'inside-link.jsonl'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('isPlainName', () => {
  it.each(['run1', '20261128-005300-mobilenet_v1_0.25_224', 'model.json', 'a_b-c.d', '0.jpg'])('accepts %s', (n) => {
    expect(isPlainName(n)).toBe(true);
  });
  it.each(['..', '.', '../x', 'a/b', 'a\\b', '%2e%2e', '.hidden', '', '/etc/passwd', 'a\0b', 'x..y', 'C:', 'a b', '~root'])(
    'rejects %j',
    (n) => {
      expect(isPlainName(n)).toBe(false);
    },
  );
});

describe('resolveInside', () => {
  it('resolves a file inside the root to its real path', async () => {
    const p = await resolveInside(root, ['run1', 'metrics.jsonl'], { kind: 'file' });
    expect(p.endsWith(join('run1', 'metrics.jsonl'))).toBe(true);
  });
  it('follows a symlink that stays inside the root', async () => {
    const p = await resolveInside(root, ['run1', 'inside-link.jsonl'], { kind: 'file' });
    expect(p.endsWith('metrics.jsonl')).toBe(true);
  });
  it('rejects traversal, encoded and absolute names with a 400 before touching the disk', async () => {
    for (const segs of [
      ['..', 'secret.txt'],
      ['run1', '..', '..', 'secret.txt'],
      ['%2e%2e', 'secret.txt'],
      [join(base, 'secret.txt')],
      ['run1/../..'],
    ]) {
      const err = await resolveInside(root, segs, { kind: 'file' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidNameError);
      expect((err as InvalidNameError).status).toBe(400);
      expect((err as Error).message).not.toContain(base);
    }
  });
  it('answers 404 for a symlink that escapes the root (file or run directory), like a missing file', async () => {
    for (const [segs, expect_] of [
      [['run1', 'leak.txt'], 'file'],
      [['linked-run'], 'directory'],
      [['linked-run', 'config.json'], 'file'],
      [['run1', 'missing.txt'], 'file'],
    ] as const) {
      const err = await resolveInside(root, segs, { kind: 'thing', expect: expect_ }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect((err as NotFoundError).status).toBe(404);
      expect((err as Error).message).toBe('thing not found');
    }
  });
  it('wants a file where a file is asked for, and a directory where a directory is', async () => {
    await expect(resolveInside(root, ['run1', 'thumbs'], { kind: 'f' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(resolveInside(root, ['run1'], { kind: 'd', expect: 'directory' })).resolves.toContain('run1');
  });
});

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FolderNotFoundError, ImageDecodeError, NotAFolderError } from '@fastts/core';
import { describe, expect, it } from 'vitest';
import { DORAEMON_WALLE } from '../../../test-support/shared';
import { FilePlatform, commonRoot, sniffImageFormat } from './platform.js';

const walleDir = join(DORAEMON_WALLE, 'train', 'walle');
const firstWalle = readdirSync(walleDir).sort()[0]!;
const jpeg = new Uint8Array(readFileSync(join(walleDir, firstWalle)));

function platform(): FilePlatform {
  return new FilePlatform([
    { path: 'dw/train/walle/a.jpg', file: new Blob([jpeg]) },
    { path: 'dw/train/doraemon/b.jpg', file: new Blob([jpeg]) },
    { path: 'dw/valid/walle/c.jpg', file: new Blob([jpeg]) },
    { path: 'dw/notes.txt', file: new Blob(['hello']) },
  ]);
}

describe('FilePlatform', () => {
  it('lists the dropped tree like folders on disk', async () => {
    const p = platform();
    expect(p.size).toBe(4);
    expect((await p.listDir('dw')).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'notes.txt', kind: 'file' },
      { name: 'train', kind: 'directory' },
      { name: 'valid', kind: 'directory' },
    ]);
    expect(await p.listDir('dw/train/walle')).toEqual([{ name: 'a.jpg', kind: 'file' }]);
    expect(p.joinPath('dw', 'train', 'walle')).toBe('dw/train/walle');
  });

  it('says which folders exist when one is missing, and refuses a file as a folder', async () => {
    const p = platform();
    await expect(p.listDir('dw/test')).rejects.toThrow(FolderNotFoundError);
    await expect(p.listDir('nope')).rejects.toThrow(/the dropped files hold: dw/);
    await expect(p.listDir('dw/notes.txt')).rejects.toThrow(NotAFolderError);
  });

  it('rejects non-images, empty and truncated files before decoding, naming the file', async () => {
    const p = new FilePlatform([
      { path: 'x/notes.txt.jpg', file: new Blob(['hello']) },
      { path: 'x/empty.jpg', file: new Blob([]) },
      { path: 'x/cut.jpg', file: new Blob([jpeg.subarray(0, Math.floor(jpeg.length / 2))]) },
    ]);
    await expect(p.probeImage('x/notes.txt.jpg')).rejects.toThrow(/x\/notes\.txt\.jpg.*not an image/);
    await expect(p.probeImage('x/empty.jpg')).rejects.toThrow(/empty/);
    const cut = p.probeImage('x/cut.jpg');
    await expect(cut).rejects.toThrow(ImageDecodeError);
    await expect(cut).rejects.toThrow(/truncated JPEG/);
    await expect(p.probeImage('x/missing.jpg')).rejects.toThrow(/no such file/);
  });
});

describe('commonRoot', () => {
  it('is the dropped folder, or empty when several were dropped', () => {
    expect(commonRoot(['dw/train/a/1.jpg', 'dw/valid/b/2.jpg'])).toBe('dw');
    expect(commonRoot(['train/a/1.jpg', 'valid/b/2.jpg'])).toBe('');
    expect(commonRoot([])).toBe('');
  });
});

describe('sniffImageFormat', () => {
  it('recognizes a real JPEG and PNG/GIF/WebP headers', () => {
    expect(sniffImageFormat(jpeg.subarray(0, 16))).toBe('jpeg');
    expect(sniffImageFormat(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]))).toBe('png');
    expect(sniffImageFormat(new TextEncoder().encode('GIF89a'))).toBe('gif');
    expect(sniffImageFormat(new TextEncoder().encode('RIFF\0\0\0\0WEBPVP8 '))).toBe('webp');
    expect(sniffImageFormat(new TextEncoder().encode('hello world'))).toBeNull();
  });
});

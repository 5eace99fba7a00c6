import { describe, expect, it } from 'vitest';
import { filesFromFileList, normalizePath } from './files.js';

describe('normalizePath', () => {
  it('gives /-separated relative paths', () => {
    expect(normalizePath('train\\walle\\1.jpg')).toBe('train/walle/1.jpg');
    expect(normalizePath('/ds//./train/a.jpg')).toBe('ds/train/a.jpg');
    expect(normalizePath('')).toBe('');
  });
});

describe('filesFromFileList', () => {
  it('keys files by webkitRelativePath (a picked folder), else by name', () => {
    const picked = Object.defineProperty(new File(['x'], '1.jpg'), 'webkitRelativePath', {
      value: 'doraemon-walle/train/walle/1.jpg',
    });
    const loose = new File(['y'], 'loose.png');
    expect(filesFromFileList([picked, loose]).map((f) => f.path)).toEqual(['doraemon-walle/train/walle/1.jpg', 'loose.png']);
  });
});

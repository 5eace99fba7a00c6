import { describe, expect, it } from 'vitest';
import { imageType, MAX_IMAGE_BYTES, rejectReason } from './limits';

describe('upload limits in the browser pages', () => {
  it('accepts images by MIME type, or by extension when the browser gives none', () => {
    expect(imageType('a.jpg', 'image/jpeg')).toBe('image/jpeg');
    expect(imageType('walle.113.JPG', '')).toBe('image/jpeg');
    expect(imageType('x.webp', 'application/octet-stream')).toBe('image/webp');
  });
  it('refuses other types, empty files and files over the size limit, saying why', () => {
    expect(rejectReason({ name: 'notes.txt', type: 'text/plain', size: 10 })).toBe(
      'notes.txt: not an image (accepted: JPEG, PNG, WebP, GIF, BMP)',
    );
    expect(rejectReason({ name: 'x.svg', type: 'image/svg+xml', size: 10 })).toMatch(/not an image/);
    expect(rejectReason({ name: 'evil.jpg', type: 'text/html', size: 10 })).toMatch(/not an image/);
    expect(rejectReason({ name: 'a.png', type: 'image/png', size: 0 })).toBe('a.png: the file is empty');
    expect(rejectReason({ name: 'big.jpg', type: 'image/jpeg', size: MAX_IMAGE_BYTES + 1 })).toMatch(/over the 20 MB limit/);
    expect(rejectReason({ name: 'ok.jpg', type: 'image/jpeg', size: 1000 })).toBeNull();
  });
});

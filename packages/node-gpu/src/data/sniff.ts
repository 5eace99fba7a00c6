/**
 * Image formats from file content (never from the extension), and cheap completeness checks from the end of the
 * file: a JPEG ends with its end-of-image marker, a PNG with its IEND chunk, a GIF with its trailer byte, and WebP
 * and BMP files declare their own size.
 */

/** A format the Node platform can decode. */
export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'tiff' | 'avif' | 'heif';

/** The format of a file from its first bytes, or null when it is not a known image format. */
export function sniffFormat(head: Uint8Array): ImageFormat | null {
  const at = (i: number, bytes: number[]): boolean => bytes.every((b, k) => head[i + k] === b);
  const ascii = (i: number, s: string): boolean =>
    at(
      i,
      [...s].map((c) => c.charCodeAt(0)),
    );
  if (at(0, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if (ascii(0, 'BM') && head.length >= 18) return 'bmp';
  if (at(0, [0x49, 0x49, 0x2a, 0x00]) || at(0, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (ascii(4, 'ftyp')) {
    const brand = String.fromCharCode(...head.subarray(8, 12));
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'mif1', 'msf1', 'hevc'].includes(brand)) return 'heif';
  }
  return null;
}

function findLast(tail: Uint8Array, bytes: number[]): boolean {
  outer: for (let i = tail.length - bytes.length; i >= 0; i--) {
    for (let k = 0; k < bytes.length; k++) if (tail[i + k] !== bytes[k]) continue outer;
    return true;
  }
  return false;
}

/**
 * Whether the end of the file looks complete for its format: `true` (complete), `false` (the file declares more
 * bytes than it has: truncated) or `null` (cannot tell from the tail, e.g. data appended after a JPEG's
 * end-of-image marker; decode to be sure).
 */
export function tailLooksComplete(format: ImageFormat, head: Uint8Array, tail: Uint8Array, fileSize: number): boolean | null {
  const le32 = (b: Uint8Array, i: number): number => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
  switch (format) {
    case 'jpeg':
      return findLast(tail, [0xff, 0xd9]) ? true : null;
    case 'png':
      return findLast(tail, [0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]) ? true : null;
    case 'gif':
      return tail.includes(0x3b) ? true : null;
    case 'webp':
      return head.length >= 8 ? le32(head, 4) + 8 <= fileSize : null;
    case 'bmp': {
      const declared = le32(head, 2);
      return declared === 0 || declared <= fileSize ? true : false;
    }
    default:
      return true;
  }
}

/** A short description of what a non-image file seems to hold, for error messages. */
export function describeContent(head: Uint8Array, fileSize: number): string {
  if (fileSize === 0) return 'the file is empty (0 bytes)';
  const sample = head.subarray(0, Math.min(head.length, 64));
  const printable = sample.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  if (printable) {
    const text = String.fromCharCode(...sample)
      .replace(/\s+/g, ' ')
      .trim();
    return `the content is text, not an image ("${text.slice(0, 40)}${text.length > 40 ? '…' : ''}")`;
  }
  const hex = Array.from(sample.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return `the content is not a supported image format (first bytes: ${hex})`;
}

/**
 * Image decoding in the browser: File / Blob / ImageBitmap / HTMLImageElement / canvas / ImageData into core's
 * `DecodedImage` (8-bit HWC RGB), through `createImageBitmap` (EXIF orientation applied) and an `OffscreenCanvas`.
 */
import { ImageDecodeError, type DecodedImage, type DecodeTarget } from '@fastts/core';
import { UnsupportedImageSourceError } from './errors.js';

/** Anything {@link decodeImage} accepts. */
export type ImageSource = Blob | ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas | ImageData;

/** Options of {@link decodeImage}. */
export interface DecodeImageOptions {
  /** Resize while decoding (as core's data pipeline asks); default: the image's own size. */
  target?: DecodeTarget;
  /** The name used in error messages (default: the File's name, else `image`). */
  name?: string;
}

function nameOf(src: ImageSource, given?: string): string {
  if (given) return given;
  if (typeof File !== 'undefined' && src instanceof File) return src.name;
  return 'image';
}

/** Opens any source as an ImageBitmap (EXIF orientation applied for encoded files). */
async function toBitmap(src: ImageSource, name: string): Promise<{ bitmap: ImageBitmap; owned: boolean }> {
  if (typeof ImageBitmap !== 'undefined' && src instanceof ImageBitmap) return { bitmap: src, owned: false };
  if (typeof Blob !== 'undefined' && src instanceof Blob) {
    if (src.size === 0) throw new ImageDecodeError(name, 'the file is empty');
    try {
      const bitmap = await createImageBitmap(src, {
        imageOrientation: 'from-image',
        premultiplyAlpha: 'none',
        colorSpaceConversion: 'default',
      });
      return { bitmap, owned: true };
    } catch (e) {
      const type = src.type ? ` (${src.type})` : '';
      throw new ImageDecodeError(name, `the browser cannot decode it${type}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (typeof HTMLImageElement !== 'undefined' && src instanceof HTMLImageElement) {
    try {
      if (!src.complete || src.naturalWidth === 0) await src.decode();
    } catch {
      throw new ImageDecodeError(name, `the <img> (${src.currentSrc || src.src || 'no src'}) did not load`);
    }
  }
  const drawable =
    (typeof HTMLImageElement !== 'undefined' && src instanceof HTMLImageElement) ||
    (typeof HTMLCanvasElement !== 'undefined' && src instanceof HTMLCanvasElement) ||
    (typeof OffscreenCanvas !== 'undefined' && src instanceof OffscreenCanvas) ||
    (typeof ImageData !== 'undefined' && src instanceof ImageData);
  if (!drawable) {
    throw new UnsupportedImageSourceError(
      `${name}: cannot decode a ${Object.prototype.toString.call(src)}; pass a File, Blob, ImageBitmap, ` +
        `HTMLImageElement, canvas or ImageData`,
    );
  }
  return { bitmap: await createImageBitmap(src as ImageBitmapSource, { premultiplyAlpha: 'none' }), owned: true };
}

/** The source rectangle and output size for a target fit (see core's `DecodeTarget`). */
export function fitRect(
  srcWidth: number,
  srcHeight: number,
  target: DecodeTarget | undefined,
): { sx: number; sy: number; sw: number; sh: number; width: number; height: number } {
  const full = { sx: 0, sy: 0, sw: srcWidth, sh: srcHeight };
  if (!target) return { ...full, width: srcWidth, height: srcHeight };
  const { width, height, fit } = target;
  if (fit === 'fill') return { ...full, width, height };
  if (fit === 'inside') {
    const scale = Math.min(1, width / srcWidth, height / srcHeight);
    return {
      ...full,
      width: Math.max(1, Math.round(srcWidth * scale)),
      height: Math.max(1, Math.round(srcHeight * scale)),
    };
  }
  // cover: the largest centred crop with the target's aspect ratio, scaled to the target size.
  const scale = Math.max(width / srcWidth, height / srcHeight);
  const sw = Math.min(srcWidth, width / scale);
  const sh = Math.min(srcHeight, height / scale);
  return { sx: (srcWidth - sw) / 2, sy: (srcHeight - sh) / 2, sw, sh, width, height };
}

/**
 * Decodes an image into 8-bit HWC RGB (`data.length === width * height * 3`), applying EXIF orientation and
 * flattening transparency onto white (as the Node platform does). With `target`, resizes (high-quality smoothing) while decoding and, for `fill`, reports the
 * original size in `sourceWidth`/`sourceHeight`. Rejects with core's `ImageDecodeError` naming the file.
 */
export async function decodeImage(src: ImageSource, options: DecodeImageOptions = {}): Promise<DecodedImage> {
  const name = nameOf(src, options.name);
  const { bitmap, owned } = await toBitmap(src, name);
  try {
    const r = fitRect(bitmap.width, bitmap.height, options.target);
    const canvas = new OffscreenCanvas(r.width, r.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true, alpha: false });
    if (!ctx) throw new ImageDecodeError(name, 'the browser gave no 2D canvas context to read pixels');
    // Transparent pixels are flattened onto white, as the Node platform does.
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, r.width, r.height);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, r.sx, r.sy, r.sw, r.sh, 0, 0, r.width, r.height);
    const rgba = ctx.getImageData(0, 0, r.width, r.height).data;
    const n = r.width * r.height;
    const data = new Uint8Array(n * 3);
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      data[i * 3] = rgba[j]!;
      data[i * 3 + 1] = rgba[j + 1]!;
      data[i * 3 + 2] = rgba[j + 2]!;
    }
    const img: DecodedImage = { data, width: r.width, height: r.height };
    if (r.width !== bitmap.width || r.height !== bitmap.height) {
      img.sourceWidth = bitmap.width;
      img.sourceHeight = bitmap.height;
    }
    return img;
  } finally {
    if (owned) bitmap.close();
  }
}

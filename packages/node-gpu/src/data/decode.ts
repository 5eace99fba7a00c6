/**
 * Image decoding for the Node platform with sharp (libvips): EXIF orientation applied, grayscale/CMYK/palette/
 * 16-bit converted to 8-bit sRGB, alpha flattened onto white, resized on decode (JPEG and WebP shrink-on-load
 * when much larger than the target). Decodes run on libuv's thread pool, so several run in parallel.
 */
import { open, readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { ImageDecodeError, type DecodedImage, type DecodeTarget } from '@fastts/core';
import { type ImageProbe } from '@fastts/core/platform';
import { bmpSize, decodeBmp } from './bmp.js';
import { describeContent, sniffFormat, tailLooksComplete, type ImageFormat } from './sniff.js';

const HEAD_BYTES = 64;
const TAIL_BYTES = 1024;

function reasonOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/^Input (file|buffer) /, '').trim();
}

async function readHeadTail(path: string): Promise<{ head: Buffer; tail: Buffer; size: number }> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new ImageDecodeError(path, `cannot open the file (${reasonOf(e)})`);
  }
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(Math.min(HEAD_BYTES, size));
    await fh.read(head, 0, head.length, 0);
    const tailLen = Math.min(TAIL_BYTES, size);
    const tail = Buffer.alloc(tailLen);
    await fh.read(tail, 0, tailLen, size - tailLen);
    return { head, tail, size };
  } finally {
    await fh.close();
  }
}

function sharpInput(path: string, bytes: Buffer, format: ImageFormat): sharp.Sharp {
  if (format === 'bmp') {
    let raw;
    try {
      raw = decodeBmp(bytes);
    } catch (e) {
      throw new ImageDecodeError(path, `corrupt or unsupported BMP (${reasonOf(e)})`);
    }
    return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 3 } });
  }
  // failOn 'error': truncated or corrupt pixel data is an error; libjpeg's harmless warnings (extraneous bytes)
  // are not, as with PIL in fast.ai.
  return sharp(bytes, { failOn: 'error' });
}

/**
 * Checks a file cheaply: its content is a supported image format, its header is readable and its end is complete
 * (a truncated JPEG/PNG/GIF/WebP/BMP is caught without decoding it; when the end is ambiguous the image is
 * decoded small to be sure). Rejects with ImageDecodeError saying why.
 */
export async function probeImageFile(path: string): Promise<ImageProbe> {
  const { head, tail, size } = await readHeadTail(path);
  const format = sniffFormat(head);
  if (!format) throw new ImageDecodeError(path, `not an image: ${describeContent(head, size)}`);
  const complete = tailLooksComplete(format, head, tail, size);
  if (complete === false)
    throw new ImageDecodeError(path, `truncated ${format.toUpperCase()} file (${size} bytes, shorter than its header declares)`);
  if (format === 'bmp') {
    const { width, height } = bmpSize(head);
    if (!(width > 0 && height > 0)) throw new ImageDecodeError(path, 'BMP header gives an invalid size');
    if (complete === null) await decodeImageFile(path, { width: 16, height: 16, fit: 'fill' });
    return { format, width, height };
  }
  let meta: sharp.Metadata;
  try {
    meta = await sharp(path, { failOn: 'error' }).metadata();
  } catch (e) {
    throw new ImageDecodeError(path, `unreadable ${format.toUpperCase()} header (${reasonOf(e)})`);
  }
  if (complete === null) {
    try {
      await sharp(path, { failOn: 'error' }).resize(16, 16, { fit: 'fill' }).raw().toBuffer();
    } catch (e) {
      throw new ImageDecodeError(path, `truncated or corrupt ${format.toUpperCase()} (${reasonOf(e)})`);
    }
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw new ImageDecodeError(path, `the ${format.toUpperCase()} header gives no image size`);
  return { format, width, height };
}

/**
 * Decodes an image file to 8-bit RGB at the target size (see DecodeTarget). `sourceWidth`/`sourceHeight` are the
 * image's size after EXIF orientation. Rejects with ImageDecodeError naming the file and the reason.
 */
export async function decodeImageFile(path: string, target: DecodeTarget): Promise<DecodedImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new ImageDecodeError(path, `cannot read the file (${reasonOf(e)})`);
  }
  const format = sniffFormat(bytes.subarray(0, HEAD_BYTES));
  if (!format) throw new ImageDecodeError(path, `not an image: ${describeContent(bytes.subarray(0, HEAD_BYTES), bytes.length)}`);
  try {
    const input = sharpInput(path, bytes, format);
    const meta = await input.metadata();
    const sourceWidth = meta.autoOrient?.width ?? meta.width;
    const sourceHeight = meta.autoOrient?.height ?? meta.height;
    const { data, info } = await input
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize(target.width, target.height, { fit: target.fit, withoutEnlargement: target.fit === 'inside' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`decoder returned ${info.channels} channels at ${info.width}x${info.height}`);
    }
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
      sourceWidth,
      sourceHeight,
    };
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    throw new ImageDecodeError(path, `corrupt or unsupported ${format.toUpperCase()} (${reasonOf(e)})`);
  }
}

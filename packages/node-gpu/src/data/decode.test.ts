import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { encode as encodeBmp } from 'bmp-ts';
import { afterAll, describe, expect, it } from 'vitest';
import { ImageDecodeError } from '@fastts/core';
import { decodeImageFile, probeImageFile } from './decode.js';
import { sniffFormat } from './sniff.js';
import { put, realJpegs, tempDir } from './test-images.test-util.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
const jpeg = realJpegs('walle', 1)[0]!;

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

describe('decodeImageFile (sharp; bmp-ts for BMP)', async () => {
  const target = { width: 64, height: 48, fit: 'fill' as const };
  const reference = await decodeImageFile(jpeg, target);
  const raw = await sharp(jpeg).rotate().resize(200, 150, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  // the same 200x150 pixels, losslessly stored: every lossless format must decode to exactly this
  const native = { width: 200, height: 150, fit: 'fill' as const };
  const lossless = await decodeImageFile(
    put(
      tmp.dir,
      'ref.png',
      await sharp(raw, { raw: { width: 200, height: 150, channels: 3 } })
        .png()
        .toBuffer(),
    ),
    native,
  );

  it('decodes a real JPEG to RGB at the target size and reports the original size', async () => {
    expect(reference.width).toBe(64);
    expect(reference.height).toBe(48);
    expect(reference.data.length).toBe(64 * 48 * 3);
    const meta = await sharp(jpeg).metadata();
    expect(reference.sourceWidth).toBe(meta.width);
    expect(reference.sourceHeight).toBe(meta.height);
  });

  it.each([
    [
      'png',
      () =>
        sharp(raw, { raw: { width: 200, height: 150, channels: 3 } })
          .png()
          .toBuffer(),
    ],
    [
      'webp',
      () =>
        sharp(raw, { raw: { width: 200, height: 150, channels: 3 } })
          .webp({ lossless: true })
          .toBuffer(),
    ],
    [
      'gif',
      () =>
        sharp(raw, { raw: { width: 200, height: 150, channels: 3 } })
          .gif()
          .toBuffer(),
    ],
    [
      'tiff',
      () =>
        sharp(raw, { raw: { width: 200, height: 150, channels: 3 } })
          .tiff({ compression: 'lzw' })
          .toBuffer(),
    ],
    [
      'bmp',
      async () => {
        // bmp-ts wants ABGR bytes
        const abgr = Buffer.alloc(200 * 150 * 4);
        for (let i = 0, j = 0; i < raw.length; i += 3, j += 4) {
          abgr[j] = 255;
          abgr[j + 1] = raw[i + 2]!;
          abgr[j + 2] = raw[i + 1]!;
          abgr[j + 3] = raw[i]!;
        }
        return encodeBmp({ data: abgr, width: 200, height: 150, bitPP: 24 }).data;
      },
    ],
  ] as const)('decodes %s to the same pixels as the lossless PNG of the same image', async (fmt, make) => {
    const file = put(tmp.dir, `formats/x.${fmt}`, await make());
    expect(sniffFormat(readFileSync(file).subarray(0, 64))).toBe(fmt);
    const probe = await probeImageFile(file);
    expect(probe).toEqual({ format: fmt, width: 200, height: 150 });
    const img = await decodeImageFile(file, native);
    expect([img.width, img.height, img.sourceWidth, img.sourceHeight]).toEqual([200, 150, 200, 150]);
    const small = await decodeImageFile(file, target);
    expect([small.width, small.height]).toEqual([64, 48]);
    // GIF is palette-quantized (256 colours): allow some difference; the others are lossless
    expect(meanAbsDiff(img.data, lossless.data)).toBeLessThan(fmt === 'gif' ? 12 : 0.5);
  });

  it('applies EXIF orientation: a photo stored sideways comes out upright', async () => {
    // stored 40x20 with a red block at the stored top-left; orientation 6 = display rotated 90° clockwise
    const stored = Buffer.alloc(40 * 20 * 3, 0);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 40; x++) if (x < 10 && y < 10) stored[(y * 40 + x) * 3] = 255;
    const file = put(
      tmp.dir,
      'exif6.jpg',
      await sharp(stored, { raw: { width: 40, height: 20, channels: 3 } })
        .jpeg({ quality: 95 })
        .withMetadata({ orientation: 6 })
        .toBuffer(),
    );
    expect(await probeImageFile(file)).toEqual({ format: 'jpeg', width: 20, height: 40 });
    const img = await decodeImageFile(file, { width: 100, height: 100, fit: 'inside' });
    expect([img.width, img.height]).toEqual([20, 40]);
    const red = (x: number, y: number): number => img.data[(y * 20 + x) * 3]!;
    expect(red(15, 4)).toBeGreaterThan(200); // top-right
    expect(red(4, 4)).toBeLessThan(50); // top-left
  });

  it('converts grayscale, CMYK, alpha and 16-bit images to 8-bit RGB', async () => {
    const gray = await decodeImageFile(put(tmp.dir, 'gray.jpg', await sharp(jpeg).greyscale().jpeg().toBuffer()), target);
    expect(gray.data.length).toBe(64 * 48 * 3);
    expect(gray.data[300]).toBe(gray.data[301]);
    expect(gray.data[301]).toBe(gray.data[302]);
    const cmykFile = put(tmp.dir, 'cmyk.jpg', await sharp(jpeg).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer());
    expect((await sharp(cmykFile).metadata()).space).toBe('cmyk');
    expect(meanAbsDiff((await decodeImageFile(cmykFile, target)).data, reference.data)).toBeLessThan(12);
    const rgba = put(
      tmp.dir,
      'alpha.png',
      await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
        .png()
        .toBuffer(),
    );
    expect(Array.from((await decodeImageFile(rgba, { width: 8, height: 8, fit: 'fill' })).data.subarray(0, 3))).toEqual([
      255, 255, 255,
    ]);
    const deep = put(
      tmp.dir,
      'deep.png',
      await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 10, g: 20, b: 200 } } })
        .toColourspace('rgb16')
        .png()
        .toBuffer(),
    );
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    expect(Array.from((await decodeImageFile(deep, { width: 8, height: 8, fit: 'fill' })).data.subarray(0, 3))).toEqual([
      10, 20, 200,
    ]);
  });

  it('shrinks large images on decode', async () => {
    const big = put(tmp.dir, 'big.jpg', await sharp(jpeg).resize(3000, 2000, { fit: 'fill' }).jpeg().toBuffer());
    const img = await decodeImageFile(big, { width: 96, height: 96, fit: 'fill' });
    expect([img.width, img.height, img.sourceWidth, img.sourceHeight]).toEqual([96, 96, 3000, 2000]);
  });

  it('names the file and the reason for files that are not complete images', async () => {
    const full = readFileSync(jpeg);
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated.jpg', full.subarray(0, Math.floor(full.length * 0.6)), /truncated|premature/i],
      ['text.jpg', Buffer.from('this is not a picture\n'), /not an image: the content is text/],
      ['empty.png', new Uint8Array(0), /empty \(0 bytes\)/],
      ['random.jpg', Uint8Array.from({ length: 500 }, (_, i) => (i * 7919) % 251), /not a supported image format/],
    ];
    for (const [name, bytes, reason] of cases) {
      const file = put(tmp.dir, `bad/${name}`, bytes);
      const err = await probeImageFile(file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImageDecodeError);
      expect((err as ImageDecodeError).message).toContain(file);
      expect((err as ImageDecodeError).reason).toMatch(reason);
      await expect(decodeImageFile(file, target)).rejects.toThrow(ImageDecodeError);
    }
  });
});

/**
 * BMP decoding. libvips (sharp) has no BMP loader, so BMP files are decoded by bmp-ts (pure TypeScript: 1/4/8/16/
 * 24/32-bit, RLE4/RLE8, bit fields) and handed to sharp as raw pixels for resizing.
 */
import { decode } from 'bmp-ts';

/** Decoded BMP pixels as RGB bytes (the alpha byte of 32-bit BMPs is ignored: it is unreliable in practice). */
export function decodeBmp(bytes: Buffer): { data: Buffer; width: number; height: number } {
  const bmp = decode(bytes, { toRGBA: true });
  const { width, height } = bmp;
  if (!(width > 0 && height > 0)) throw new Error(`BMP header gives an invalid size ${width}x${height}`);
  const rgba = bmp.data;
  if (rgba.length < width * height * 4) throw new Error('BMP pixel data is shorter than its header says');
  const rgb = Buffer.allocUnsafe(width * height * 3);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  return { data: rgb, width, height };
}

/** Width and height from a BMP header (a negative height means top-down rows). */
export function bmpSize(head: Uint8Array): { width: number; height: number } {
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const headerSize = v.getUint32(14, true);
  if (headerSize === 12) return { width: v.getUint16(18, true), height: v.getUint16(20, true) };
  return { width: Math.abs(v.getInt32(18, true)), height: Math.abs(v.getInt32(22, true)) };
}

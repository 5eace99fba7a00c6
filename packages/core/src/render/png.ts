/** PNG encoding of decoded images (fast-png) and base64 data URIs, without Node's Buffer or the DOM. */
import { encode } from 'fast-png';
import * as tf from '@tensorflow/tfjs-core';
import { assertDecodedImage, type DecodedImage } from '../data/image.js';

/** Encodes an RGB image as PNG bytes. */
export function encodePng(img: DecodedImage): Uint8Array {
  assertDecodedImage(img);
  return encode({ width: img.width, height: img.height, data: img.data, channels: 3, depth: 8 });
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 of a byte array. */
export function bytesToBase64(bytes: Uint8Array): string {
  const out: string[] = [];
  let chunk = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    chunk +=
      B64[(n >> 18) & 63]! +
      B64[(n >> 12) & 63]! +
      (b === undefined ? '=' : B64[(n >> 6) & 63]!) +
      (c === undefined ? '=' : B64[n & 63]!);
    if (chunk.length >= 8192) {
      out.push(chunk);
      chunk = '';
    }
  }
  out.push(chunk);
  return out.join('');
}

/** A `data:image/png;base64,...` URI of an RGB image. */
export function pngDataUri(img: DecodedImage): string {
  return `data:image/png;base64,${bytesToBase64(encodePng(img))}`;
}

/**
 * The images of an NHWC batch of pixel values 0..255 (e.g. an un-normalized batch from a DataLoader) as RGB
 * bytes (values rounded and clipped to 0..255). Does not dispose `x`.
 */
export async function tensorToImages(x: tf.Tensor4D): Promise<DecodedImage[]> {
  const [n, h, w, c] = x.shape;
  if (c !== 3) throw new Error(`tensorToImages: expected 3 channels, got ${c}`);
  const bytes = tf.tidy(() => tf.cast(tf.clipByValue(tf.round(x), 0, 255), 'int32'));
  const values = await bytes.data();
  bytes.dispose();
  const per = h * w * 3;
  return Array.from({ length: n }, (_, i) => ({
    data: Uint8Array.from(values.subarray(i * per, (i + 1) * per)),
    width: w,
    height: h,
  }));
}

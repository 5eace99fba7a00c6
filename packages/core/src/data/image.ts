/** Decoded pixels as platforms hand them to core. */

/**
 * An image decoded to 8-bit RGB, row-major HWC (`data.length === width * height * 3`).
 * `sourceWidth`/`sourceHeight` give the size of the image as stored (after EXIF orientation) when the platform
 * resized it on decode, so that aspect-ratio-aware transforms can undo a squish; absent means "not resized".
 */
export interface DecodedImage {
  /** HWC RGB bytes, 3 channels. */
  data: Uint8Array;
  /** Width in pixels of `data`. */
  width: number;
  /** Height in pixels of `data`. */
  height: number;
  /** Width of the original image (after EXIF orientation), when `data` was resized on decode. */
  sourceWidth?: number;
  /** Height of the original image (after EXIF orientation), when `data` was resized on decode. */
  sourceHeight?: number;
}

/** What a platform can tell about an image file without decoding all of it. */
export interface ImageProbe {
  /** Container format found from the file's content (e.g. 'jpeg', 'png', 'webp', 'gif', 'bmp'). */
  format: string;
  /** Width after EXIF orientation. */
  width: number;
  /** Height after EXIF orientation. */
  height: number;
}

/** How a platform should size an image while decoding it. */
export interface DecodeTarget {
  /** Output width in pixels. */
  width: number;
  /** Output height in pixels. */
  height: number;
  /**
   * 'fill': squish the whole image to exactly width x height (aspect ratio not kept; the original size is reported
   * in `sourceWidth`/`sourceHeight`); 'cover': resize so it covers the box, then center-crop to exactly
   * width x height; 'inside': resize to fit inside the box, keeping the aspect ratio (never enlarges).
   */
  fit: 'fill' | 'cover' | 'inside';
}

/** Checks that an object is a well-formed {@link DecodedImage}; throws a readable error otherwise. */
export function assertDecodedImage(img: DecodedImage, what = 'image'): void {
  if (!(img.data instanceof Uint8Array)) throw new TypeError(`${what}: data must be a Uint8Array`);
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1) {
    throw new TypeError(`${what}: width and height must be positive integers, got ${img.width}x${img.height}`);
  }
  if (img.data.length !== img.width * img.height * 3) {
    throw new TypeError(
      `${what}: data has ${img.data.length} bytes, expected ${img.width}x${img.height}x3 = ${img.width * img.height * 3}`,
    );
  }
}

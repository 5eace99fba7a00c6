/**
 * An image data set: item paths, integer labels, the class list, and decoding through the platform with a
 * shared cache of decoded pixels (so that epochs after the first decode nothing).
 */
import type { DecodedImage, DecodeTarget } from './image.js';
import type { DataPlatform } from './platform.js';

/**
 * Decoded-pixel cache shared by the data loaders of a data bunch, keyed by path and decode target, bounded by a
 * byte budget: once the budget is used up, further images are decoded on every use instead of cached.
 * Concurrent requests for one image share one decode.
 */
export class ImageCache {
  private readonly entries = new Map<string, Promise<DecodedImage>>();
  private bytes = 0;

  /** @param maxBytes budget for cached pixels (default 2 GiB). */
  constructor(readonly maxBytes = 2 * 1024 ** 3) {}

  /** Bytes of pixels held. */
  get size(): number {
    return this.bytes;
  }

  /** Number of images held (or being decoded). */
  get count(): number {
    return this.entries.size;
  }

  /** Returns the cached image or decodes it with `decode`, caching the result while the budget allows. */
  get(key: string, bytes: number, decode: () => Promise<DecodedImage>): Promise<DecodedImage> {
    const hit = this.entries.get(key);
    if (hit) return hit;
    if (this.bytes + bytes > this.maxBytes) return decode();
    this.bytes += bytes;
    const p = decode();
    this.entries.set(key, p);
    p.catch(() => {
      // never cache failures
      if (this.entries.get(key) === p) {
        this.entries.delete(key);
        this.bytes -= bytes;
      }
    });
    return p;
  }

  /** Drops every cached image. */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

/** A list of image files with labels (fast.ai `LabelList`): `labels[i]` indexes `classes`, -1 = unlabelled. */
export class ImageDataset {
  /**
   * @param items file paths
   * @param labels class index per item (-1 for unlabelled test items)
   * @param classes the class names
   * @param platform decodes the files
   * @param decodeTarget how images are sized on decode
   * @param cache shared decoded-pixel cache
   */
  constructor(
    readonly items: readonly string[],
    readonly labels: readonly number[],
    readonly classes: readonly string[],
    readonly platform: DataPlatform,
    readonly decodeTarget: DecodeTarget,
    readonly cache: ImageCache = new ImageCache(),
  ) {
    if (items.length !== labels.length) throw new Error(`ImageDataset: ${items.length} items but ${labels.length} labels`);
  }

  /** Number of items. */
  get length(): number {
    return this.items.length;
  }

  /** The class name of item `i` (undefined for unlabelled items). */
  labelName(i: number): string | undefined {
    const l = this.labels[i];
    return l === undefined || l < 0 ? undefined : this.classes[l];
  }

  /** The decoded pixels of item `i` (decoded once, then served from the cache). */
  image(i: number): Promise<DecodedImage> {
    const path = this.items[i];
    if (path === undefined) return Promise.reject(new RangeError(`item ${i} out of range 0..${this.items.length - 1}`));
    const t = this.decodeTarget;
    return this.cache.get(`${path}\u0000${t.width}x${t.height}:${t.fit}`, t.width * t.height * 3, () =>
      this.platform.decodeImage(path, t),
    );
  }
}

/**
 * What core needs from a platform (Node, browser) to read a data set: folder listing and image decoding.
 * Core never touches files itself; `@fastts/node-gpu` implements this with `fs` + sharp, `@fastts/webgpu` with
 * dropped File objects.
 */
import type { DecodedImage, DecodeTarget, ImageProbe } from './image.js';

/** One entry of a folder listing. */
export interface DirEntry {
  /** The entry's name (no path). */
  name: string;
  /** What it is; symlinks are reported as what they point to. */
  kind: 'file' | 'directory' | 'other';
}

/** The platform functions the data pipeline calls. */
export interface DataPlatform {
  /** A short name for messages ('node', 'browser'). */
  readonly name: string;
  /** Joins path parts with the platform's separator. */
  joinPath(...parts: string[]): string;
  /**
   * Lists a folder. Rejects with `FolderNotFoundError` when it does not exist and `NotAFolderError` when it is a file.
   */
  listDir(path: string): Promise<DirEntry[]>;
  /**
   * Checks cheaply (header and end of the file, no full decode) that a file is a complete image of a supported
   * format. Rejects with `ImageDecodeError` saying why it is not.
   */
  probeImage(path: string): Promise<ImageProbe>;
  /**
   * Decodes an image to 8-bit RGB at the target size, applying EXIF orientation and converting grayscale, CMYK,
   * palette and alpha images to RGB. Rejects with `ImageDecodeError` naming the file.
   */
  decodeImage(path: string, target: DecodeTarget): Promise<DecodedImage>;
}

/** File extensions (lower case, with the dot) that the data pipeline treats as images. */
export const IMAGE_EXTENSIONS: readonly string[] = [
  '.jpg',
  '.jpeg',
  '.jpe',
  '.jfif',
  '.png',
  '.webp',
  '.gif',
  '.bmp',
  '.dib',
  '.tif',
  '.tiff',
  '.avif',
];

/** True when the file name has one of {@link IMAGE_EXTENSIONS} (case-insensitive) and is not hidden. */
export function isImageFileName(name: string): boolean {
  if (name.startsWith('.')) return false;
  const dot = name.lastIndexOf('.');
  if (dot < 0) return false;
  return IMAGE_EXTENSIONS.includes(name.slice(dot).toLowerCase());
}

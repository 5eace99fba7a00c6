/**
 * Core's `DataPlatform` over files the user dropped or picked: a read-only folder tree built from relative paths,
 * decoded by the browser. Feeds core's `fromFolder` so the browser gets the same DataBunch as Node.
 */
import {
  FolderNotFoundError,
  ImageDecodeError,
  NotAFolderError,
  type DataBunch,
  type DecodedImage,
  type DecodeTarget,
  type FromFolderOptions,
} from '@fastts/core';
import { fromFolderWith, type DataPlatform, type DirEntry, type ImageProbe } from '@fastts/core/platform';
import { decodeImage } from './decode.js';
import { filesFromFileList, normalizePath, type RelativeFile } from './files.js';

/** Recognizes an image container from its first bytes; null when unknown. */
export function sniffImageFormat(head: Uint8Array): string | null {
  const b = (i: number) => head[i] ?? -1;
  const ascii = (from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'jpeg';
  if (b(0) === 0x89 && ascii(1, 4) === 'PNG') return 'png';
  if (ascii(0, 4) === 'GIF8') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 2) === 'BM') return 'bmp';
  if (ascii(4, 8) === 'ftyp' && /^(avif|avis)$/.test(ascii(8, 12))) return 'avif';
  if (ascii(0, 4) === 'II*\u0000' || ascii(0, 4) === 'MM\u0000*') return 'tiff';
  return null;
}

async function bytes(blob: Blob, start: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await blob.slice(Math.max(0, start), Math.max(0, end)).arrayBuffer());
}

/** Checks the end of a JPEG/PNG for its end marker: a truncated download decodes to a half-grey image otherwise. */
async function truncation(format: string, file: Blob): Promise<string | null> {
  if (format === 'jpeg') {
    const tail = await bytes(file, file.size - 1024, file.size);
    for (let i = tail.length - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) return null;
    return 'truncated JPEG: no end-of-image marker';
  }
  if (format === 'png') {
    const tail = await bytes(file, file.size - 1024, file.size);
    const text = String.fromCharCode(...tail);
    return text.includes('IEND') ? null : 'truncated PNG: no IEND chunk';
  }
  return null;
}

/**
 * A read-only folder tree over dropped/picked files, implementing core's `DataPlatform` (`listDir`,
 * `probeImage`, `decodeImage`). Paths are `/`-separated and relative to what was dropped.
 */
export class FilePlatform implements DataPlatform {
  readonly name = 'browser';
  private readonly files = new Map<string, Blob>();
  private readonly dirs = new Map<string, Map<string, DirEntry['kind']>>([['', new Map()]]);

  constructor(files: Iterable<RelativeFile>) {
    for (const { path, file } of files) {
      const p = normalizePath(path);
      if (!p) continue;
      this.files.set(p, file);
      const parts = p.split('/');
      for (let i = 0; i < parts.length; i++) {
        const parent = parts.slice(0, i).join('/');
        let entries = this.dirs.get(parent);
        if (!entries) this.dirs.set(parent, (entries = new Map()));
        entries.set(parts[i]!, i === parts.length - 1 ? 'file' : 'directory');
      }
    }
  }

  /** Number of files in the tree. */
  get size(): number {
    return this.files.size;
  }

  joinPath(...parts: string[]): string {
    return normalizePath(parts.join('/'));
  }

  async listDir(path: string): Promise<DirEntry[]> {
    const p = normalizePath(path);
    if (this.files.has(p)) throw new NotAFolderError(p);
    const entries = this.dirs.get(p);
    if (!entries) {
      const top = [...(this.dirs.get('')?.keys() ?? [])].join(', ') || 'nothing';
      throw new FolderNotFoundError(p || '/', `the dropped files hold: ${top}`);
    }
    return [...entries].map(([name, kind]) => ({ name, kind }));
  }

  private file(path: string): Blob {
    const p = normalizePath(path);
    const f = this.files.get(p);
    if (!f) throw new ImageDecodeError(p, this.dirs.has(p) ? 'it is a folder' : 'no such file among the dropped files');
    return f;
  }

  async probeImage(path: string): Promise<ImageProbe> {
    const file = this.file(path);
    if (file.size === 0) throw new ImageDecodeError(path, 'the file is empty');
    const format = sniffImageFormat(await bytes(file, 0, 16));
    if (!format) throw new ImageDecodeError(path, 'not an image (unrecognized file header)');
    if (format === 'tiff') throw new ImageDecodeError(path, 'browsers cannot decode TIFF: convert it to PNG or JPEG');
    const cut = await truncation(format, file);
    if (cut) throw new ImageDecodeError(path, cut);
    const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' }).catch((e: unknown) => {
      throw new ImageDecodeError(path, `the browser cannot decode this ${format}: ${e instanceof Error ? e.message : e}`);
    });
    const probe = { format, width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return probe;
  }

  decodeImage(path: string, target: DecodeTarget): Promise<DecodedImage> {
    return decodeImage(this.file(path), { target, name: normalizePath(path) });
  }
}

/** The deepest folder holding every file: the folder the user dropped (`''` when several were dropped). */
export function commonRoot(paths: Iterable<string>): string {
  let common: string[] | null = null;
  for (const path of paths) {
    const dir = normalizePath(path).split('/').slice(0, -1);
    if (common === null) common = dir;
    else {
      let i = 0;
      while (i < common.length && i < dir.length && common[i] === dir[i]) i++;
      common = common.slice(0, i);
    }
  }
  return (common ?? []).join('/');
}

/** Options of {@link fromFiles}: core's `fromFolder` options plus the folder to start from. */
export interface FromFilesOptions extends FromFolderOptions {
  /** The data set's folder among the dropped paths (holding `train/`, `valid/`, ...). Default: their common folder. */
  root?: string;
}

/**
 * fast.ai's `ImageDataBunch.from_folder` over dropped or picked files: `train/<label>/x.jpg`, `valid/<label>/...`,
 * optional `test/`, or `validPct` — the same options and DataBunch as `fromFolder` on Node.
 */
export async function fromFiles(
  files: FileList | readonly File[] | Iterable<RelativeFile>,
  options: FromFilesOptions = {},
): Promise<DataBunch> {
  const list = isFileList(files) ? filesFromFileList(files) : [...(files as Iterable<RelativeFile>)];
  const { root, ...opts } = options;
  const platform = new FilePlatform(list);
  return fromFolderWith(platform, root ?? commonRoot(list.map((f) => f.path)), opts);
}

function isFileList(x: unknown): x is FileList | readonly File[] {
  if (typeof FileList !== 'undefined' && x instanceof FileList) return true;
  return Array.isArray(x) && x.length > 0 && typeof File !== 'undefined' && x[0] instanceof File;
}

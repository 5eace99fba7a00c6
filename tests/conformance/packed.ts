/**
 * A self-contained pack of the conformance fixtures for machines without the shared folder or sharp (the GPU
 * machine): raw files (model.json, shards, expected.json) plus images already decoded, in one binary:
 * `u32 header length | header JSON | payload`. {@link PackedData} serves it as core's `DataPlatform` and as the
 * suite's `SharedIo`.
 */
import { FolderNotFoundError, ImageDecodeError, NotAFolderError, type DecodedImage, type DecodeTarget } from '@fastts/core';
import { fromFolderWith, type DataPlatform, type DirEntry, type ImageProbe } from '@fastts/core/platform';
import type { SharedIo } from './fixtures.js';

/** One entry of a pack: raw bytes, or an image decoded for one target (`fit` 'none' = full size). */
interface PackEntry {
  path: string;
  offset: number;
  length: number;
  image?: { width: number; height: number; sourceWidth: number; sourceHeight: number; target: string };
}

interface PackHeader {
  format: 'fastts-conformance-pack';
  entries: PackEntry[];
}

const FORMAT = 'fastts-conformance-pack';

function targetKey(t: DecodeTarget | null): string {
  return t ? `${t.width}x${t.height}:${t.fit}` : 'full';
}

/** Builds a pack (Node, at prepare time). */
export class PackWriter {
  private readonly entries: PackEntry[] = [];
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  private push(entry: Omit<PackEntry, 'offset' | 'length'>, bytes: Uint8Array): void {
    this.entries.push({ ...entry, offset: this.size, length: bytes.length });
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  /** Adds a file's bytes under a `/`-separated path relative to the shared folder. */
  addFile(path: string, bytes: Uint8Array): void {
    this.push({ path }, bytes);
  }

  /** Adds an image decoded for `target` (null: full size). */
  addImage(path: string, img: DecodedImage, target: DecodeTarget | null): void {
    this.push(
      {
        path,
        image: {
          width: img.width,
          height: img.height,
          sourceWidth: img.sourceWidth ?? img.width,
          sourceHeight: img.sourceHeight ?? img.height,
          target: targetKey(target),
        },
      },
      img.data,
    );
  }

  /** The pack's bytes. */
  toBytes(): Uint8Array {
    const header = new TextEncoder().encode(JSON.stringify({ format: FORMAT, entries: this.entries }));
    const out = new Uint8Array(4 + header.length + this.size);
    new DataView(out.buffer).setUint32(0, header.length, true);
    out.set(header, 4);
    let p = 4 + header.length;
    for (const c of this.chunks) {
      out.set(c, p);
      p += c.length;
    }
    return out;
  }
}

/** Reads a pack: the suite's `SharedIo` and a `DataPlatform` over its images. */
export class PackedData implements DataPlatform, SharedIo {
  readonly name = 'conformance-pack';
  private readonly files = new Map<string, PackEntry>();
  private readonly images = new Map<string, PackEntry>();
  private readonly dirs = new Map<string, Map<string, DirEntry['kind']>>();
  private readonly payload: Uint8Array;

  constructor(bytes: Uint8Array) {
    const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n))) as PackHeader;
    if (header.format !== FORMAT) throw new Error(`not a conformance pack (format ${String(header.format)})`);
    this.payload = bytes.subarray(4 + n);
    for (const e of header.entries) {
      if (e.image) this.images.set(`${e.path}\u0000${e.image.target}`, e);
      else this.files.set(e.path, e);
      const parts = e.path.split('/');
      for (let i = 0; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (!this.dirs.has(dir)) this.dirs.set(dir, new Map());
        this.dirs.get(dir)!.set(parts[i]!, i === parts.length - 1 ? 'file' : 'directory');
      }
    }
  }

  private bytesOf(e: PackEntry): Uint8Array {
    return this.payload.subarray(e.offset, e.offset + e.length);
  }

  private image(path: string, target: DecodeTarget | null): PackEntry {
    const e = this.images.get(`${path}\u0000${targetKey(target)}`);
    if (!e) {
      throw new ImageDecodeError(path, `the pack has no decode of it for ${targetKey(target)}: rebuild the pack`);
    }
    return e;
  }

  async read(relPath: string): Promise<Uint8Array> {
    const e = this.files.get(relPath);
    if (!e) throw new Error(`the conformance pack has no file ${relPath}: rebuild it`);
    return this.bytesOf(e);
  }

  async decode(relPath: string): Promise<DecodedImage> {
    const e = this.image(relPath, null);
    return { data: this.bytesOf(e).slice(), width: e.image!.width, height: e.image!.height };
  }

  dataBunch(options: Parameters<SharedIo['dataBunch']>[0]): ReturnType<SharedIo['dataBunch']> {
    return fromFolderWith(this, 'datasets/doraemon-walle', options);
  }

  joinPath(...parts: string[]): string {
    return parts.filter(Boolean).join('/');
  }

  async listDir(path: string): Promise<DirEntry[]> {
    if (this.files.has(path)) throw new NotAFolderError(path);
    const d = this.dirs.get(path);
    if (!d) throw new FolderNotFoundError(path);
    return [...d].map(([name, kind]) => ({ name, kind }));
  }

  async probeImage(path: string): Promise<ImageProbe> {
    for (const [k, e] of this.images) {
      if (k.startsWith(`${path}\u0000`)) return { format: 'jpeg', width: e.image!.sourceWidth, height: e.image!.sourceHeight };
    }
    throw new ImageDecodeError(path, 'not in the conformance pack');
  }

  async decodeImage(path: string, target: DecodeTarget): Promise<DecodedImage> {
    const e = this.image(path, target);
    const img = e.image!;
    const out: DecodedImage = { data: this.bytesOf(e).slice(), width: img.width, height: img.height };
    if (img.sourceWidth !== img.width || img.sourceHeight !== img.height) {
      out.sourceWidth = img.sourceWidth;
      out.sourceHeight = img.sourceHeight;
    }
    return out;
  }
}

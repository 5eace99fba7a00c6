/**
 * An in-memory DataPlatform for unit tests of the platform-free data logic: a tree of folders whose files are
 * small generated images (or broken ones), with counters of decode calls. Real files are tested in node-gpu.
 */
import { FolderNotFoundError, ImageDecodeError, NotAFolderError } from './errors.js';
import type { DecodedImage, DecodeTarget, ImageProbe } from './image.js';
import type { DataPlatform, DirEntry } from './platform.js';

/** A file: an image of a given size and flat colour, or 'broken' (fails to probe and decode), or 'text'. */
export type MemFile = { width: number; height: number; value: number } | 'broken' | 'text';

export class MemoryPlatform implements DataPlatform {
  readonly name = 'memory';
  readonly decodeCalls: string[] = [];
  readonly probeCalls: string[] = [];
  /** Milliseconds each decode takes (to observe prefetching). */
  decodeDelayMs = 0;
  constructor(readonly files: Map<string, MemFile>) {}

  joinPath(...parts: string[]): string {
    return parts.join('/').replace(/\/+/g, '/');
  }

  async listDir(path: string): Promise<DirEntry[]> {
    const prefix = path.endsWith('/') ? path : `${path}/`;
    if (this.files.has(path)) throw new NotAFolderError(path);
    const names = new Map<string, DirEntry['kind']>();
    for (const f of this.files.keys()) {
      if (!f.startsWith(prefix)) continue;
      const rest = f.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash < 0) names.set(rest, rest === '' ? 'directory' : 'file');
      else names.set(rest.slice(0, slash), 'directory');
    }
    names.delete('');
    if (names.size === 0 && ![...this.files.keys()].some((f) => f.startsWith(prefix))) throw new FolderNotFoundError(path);
    return [...names].map(([name, kind]) => ({ name, kind }));
  }

  async probeImage(path: string): Promise<ImageProbe> {
    this.probeCalls.push(path);
    const f = this.files.get(path);
    if (f === undefined) throw new ImageDecodeError(path, 'no such file');
    if (f === 'broken') throw new ImageDecodeError(path, 'truncated JPEG file');
    if (f === 'text') throw new ImageDecodeError(path, 'not an image: the content is text');
    return { format: 'raw', width: f.width, height: f.height };
  }

  async decodeImage(path: string, target: DecodeTarget): Promise<DecodedImage> {
    this.decodeCalls.push(path);
    if (this.decodeDelayMs) await new Promise((r) => setTimeout(r, this.decodeDelayMs));
    const f = this.files.get(path);
    if (f === undefined || f === 'broken' || f === 'text') throw new ImageDecodeError(path, 'cannot decode');
    const data = new Uint8Array(target.width * target.height * 3).fill(f.value);
    return { data, width: target.width, height: target.height, sourceWidth: f.width, sourceHeight: f.height };
  }
}

/** Files for `root/<split>/<class>/<i>.jpg`, `counts[split][class]` images each; value = running index mod 256. */
export function memoryDataset(root: string, counts: Record<string, Record<string, number>>): Map<string, MemFile> {
  const files = new Map<string, MemFile>();
  let k = 0;
  for (const [split, classes] of Object.entries(counts)) {
    for (const [cls, n] of Object.entries(classes)) {
      for (let i = 0; i < n; i++) {
        const p =
          cls === ''
            ? `${root}/${split}/${String(i).padStart(3, '0')}.jpg`
            : `${root}/${split}/${cls}/${String(i).padStart(3, '0')}.jpg`;
        files.set(p, { width: 40 + (k % 7) * 10, height: 30 + (k % 5) * 10, value: k % 256 });
        k++;
      }
    }
  }
  return files;
}

/** The Node implementation of core's DataPlatform: folders on disk, decoding with sharp. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FolderNotFoundError, NotAFolderError } from '@fastts/core';
import { type DataPlatform, type DirEntry } from '@fastts/core/platform';
import { decodeImageFile, probeImageFile } from './decode.js';

async function listDir(path: string): Promise<DirEntry[]> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new FolderNotFoundError(path);
  }
  if (!st.isDirectory()) throw new NotAFolderError(path);
  const entries = await readdir(path, { withFileTypes: true });
  return Promise.all(
    entries.map(async (e): Promise<DirEntry> => {
      if (e.isDirectory()) return { name: e.name, kind: 'directory' };
      if (e.isFile()) return { name: e.name, kind: 'file' };
      if (e.isSymbolicLink()) {
        const t = await stat(join(path, e.name)).catch(() => null);
        return { name: e.name, kind: t?.isDirectory() ? 'directory' : t?.isFile() ? 'file' : 'other' };
      }
      return { name: e.name, kind: 'other' };
    }),
  );
}

/** The Node platform: `fs` for folders, sharp (and bmp-ts for BMP) for decoding. */
export const nodePlatform: DataPlatform = {
  name: 'node',
  joinPath: (...parts) => join(...parts),
  listDir,
  probeImage: probeImageFile,
  decodeImage: decodeImageFile,
};

/**
 * The Learner's storage on Node's file system (checkpoints, exports, loggers): whole-file writes are atomic and
 * durable (a temporary file in the same folder, flushed to disk, then renamed over the target), folders are
 * created as needed. Relative paths resolve against the process's working directory.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LearnerStorage } from '@fastts/core/platform';

/** Writes `data` to `path` atomically and durably: temporary file, fsync, rename (creating the folder). */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** A {@link LearnerStorage} on the local file system (paths relative to the current directory or absolute). */
export function nodeStorage(): LearnerStorage {
  return {
    writeFile: writeFileAtomic,
    async readFile(path: string): Promise<Uint8Array> {
      const b = await readFile(path);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
    async exists(path: string): Promise<boolean> {
      try {
        return (await stat(path)).isFile();
      } catch {
        return false;
      }
    },
    async remove(path: string): Promise<void> {
      await rm(path, { force: true });
    },
    async appendFile(path: string, data: Uint8Array): Promise<void> {
      await mkdir(dirname(path), { recursive: true });
      await appendFile(path, data);
    },
  };
}

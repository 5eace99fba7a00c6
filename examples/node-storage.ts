/**
 * The Learner's storage functions on Node's file system: whole-file writes are atomic (a temporary file in the
 * same folder, flushed, then renamed over the target), folders are created as needed.
 *
 * This is an adapter kept beside the tutorial until the Node platform package exports its own.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LearnerStorage } from '@fastts/node-gpu';

/** A {@link LearnerStorage} on the local file system (paths relative to the current directory or absolute). */
export function nodeStorage(): LearnerStorage {
  return {
    async writeFile(path: string, data: Uint8Array): Promise<void> {
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
    },
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

/**
 * The Learner's storage on Node's file system (save/load checkpoints, export, loggers): atomic whole-file writes
 * (temporary file + rename), appends, reads. Relative paths resolve against the process's working directory.
 *
 * This is a small adapter: `@fastts/core` asks the platform for a `LearnerStorage`, and `@fastts/node-gpu` does not
 * provide one (yet).
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LearnerStorage } from '@fastts/node-gpu';

/** A {@link LearnerStorage} on the local file system. */
export function nodeStorage(): LearnerStorage {
  return {
    async writeFile(path: string, data: Uint8Array): Promise<void> {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.tmp-${process.pid}`;
      await writeFile(tmp, data);
      await rename(tmp, path);
    },
    async readFile(path: string): Promise<Uint8Array> {
      const b = await readFile(path);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
    async exists(path: string): Promise<boolean> {
      return existsSync(path);
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

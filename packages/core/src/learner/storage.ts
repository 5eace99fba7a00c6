/**
 * Where the Learner writes checkpoints, exports and logs. Core has no file system: the platform hands it these
 * functions (Node: temp file + rename; browsers: IndexedDB, OPFS or memory).
 */
import { LearnerConfigError } from './errors.js';

/** File functions the Learner writes through. Paths use `/` separators. */
export interface LearnerStorage {
  /** Writes the whole file atomically (a reader sees the old or the new file, never a part), creating folders. */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** Reads a whole file; rejects when it does not exist. */
  readFile(path: string): Promise<Uint8Array>;
  /** Whether the file exists. */
  exists(path: string): Promise<boolean>;
  /** Deletes a file if it exists. */
  remove(path: string): Promise<void>;
  /** Appends to a file, creating it (optional: loggers rewrite the whole file atomically without it). */
  appendFile?(path: string, data: Uint8Array): Promise<void>;
}

/** Joins path parts with `/`, dropping empty parts and duplicate separators. */
export function joinPath(...parts: string[]): string {
  const kept = parts.filter((p) => p !== '' && p !== '.');
  if (kept.length === 0) return '.';
  return kept
    .map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, '')))
    .filter((p, i) => p !== '' || i === 0)
    .join('/');
}

/** An in-memory {@link LearnerStorage} (browsers without persistence, tests). */
export class MemoryStorage implements LearnerStorage {
  readonly files = new Map<string, Uint8Array>();
  async writeFile(path: string, data: Uint8Array): Promise<void> {
    this.files.set(path, data.slice());
  }
  async readFile(path: string): Promise<Uint8Array> {
    const f = this.files.get(path);
    if (!f)
      throw new LearnerConfigError(`no file "${path}" in memory storage (have: ${[...this.files.keys()].join(', ') || 'none'})`);
    return f.slice();
  }
  async exists(path: string): Promise<boolean> {
    return this.files.has(path);
  }
  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }
  async appendFile(path: string, data: Uint8Array): Promise<void> {
    const old = this.files.get(path) ?? new Uint8Array(0);
    const out = new Uint8Array(old.length + data.length);
    out.set(old);
    out.set(data, old.length);
    this.files.set(path, out);
  }
}

/**
 * Safe `.tar.gz` extraction with node-tar: every entry must stay inside the target folder (no absolute paths, no
 * `..`, no link pointing out); one that would not is refused and the whole extraction fails.
 */
import { mkdir } from 'node:fs/promises';
import { posix } from 'node:path';
import { x as extractTar, type ReadEntry } from 'tar';
import { ArchiveError } from './errors.js';

/** Options of {@link extractTarGz}. */
export interface ExtractOptions {
  /**
   * Extract only `<top>/<root>/...` (the archive's single top folder, then `root`), without those two levels:
   * a GitHub archive's `<repo>-<sha>/imgs/train/a.jpg` becomes `train/a.jpg` with `root: 'imgs'`.
   */
  root?: string;
}

/** The reason an entry path is unsafe, or null. Paths are `/`-separated as in tar headers. */
export function unsafeEntryPath(path: string): string | null {
  if (path.startsWith('/') || /^[a-zA-Z]:/.test(path) || path.startsWith('\\')) return 'is an absolute path';
  if (path.split(/[\\/]/).includes('..')) return "goes up with '..'";
  return null;
}

/** The reason a link entry points outside the archive's folder, or null. */
function unsafeLink(entry: ReadEntry): string | null {
  if (entry.type !== 'SymbolicLink' && entry.type !== 'Link') return null;
  const target = entry.linkpath ?? '';
  if (unsafeEntryPath(target) === 'is an absolute path') return `links to the absolute path ${target}`;
  // A symbolic link resolves from its own folder, a hard link from the archive's root.
  const resolved = posix.normalize(entry.type === 'SymbolicLink' ? posix.join(posix.dirname(entry.path), target) : target);
  return resolved === '..' || resolved.startsWith('../') ? `links outside the folder (${target})` : null;
}

/**
 * Extracts the `.tar.gz` at `archive` into `dest` (created). Throws {@link ArchiveError} (naming the first
 * offending entry) when an entry would land outside `dest`, or when the archive cannot be read. The caller
 * extracts into a temporary folder and deletes the archive on failure.
 */
export async function extractTarGz(archive: string, dest: string, options: ExtractOptions = {}): Promise<void> {
  await mkdir(dest, { recursive: true });
  const refused: string[] = [];
  const problems: string[] = [];
  const root = options.root?.replace(/^\/+|\/+$/g, '');
  const filter = (path: string, entry: ReadEntry | unknown): boolean => {
    const unsafe = unsafeEntryPath(path) ?? (isReadEntry(entry) ? unsafeLink(entry) : null);
    if (unsafe) {
      refused.push(`'${path}' ${unsafe}`);
      return false;
    }
    if (isReadEntry(entry) && !['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link'].includes(entry.type)) {
      return false; // devices, FIFOs: never part of a data set
    }
    if (!root) return true;
    const parts = path.split('/').filter((s) => s !== '' && s !== '.');
    return parts.length > 2 && parts[1] === root;
  };
  try {
    await extractTar({
      file: archive,
      cwd: dest,
      filter,
      strip: root ? 2 : 0,
      preserveOwner: false,
      onwarn: (code, message) => {
        if (code !== 'TAR_ENTRY_INFO') problems.push(`${code}: ${message}`);
      },
    });
  } catch (e) {
    throw new ArchiveError(archive, `is not a readable .tar.gz (${(e as Error).message})`, { cause: e });
  }
  if (refused.length > 0) {
    throw new ArchiveError(
      archive,
      `has entries that would be written outside ${dest}, refused: ${refused.slice(0, 3).join(', ')}`,
    );
  }
  if (problems.length > 0) throw new ArchiveError(archive, `is damaged (${problems.slice(0, 3).join('; ')})`);
}

function isReadEntry(entry: unknown): entry is ReadEntry {
  return typeof entry === 'object' && entry !== null && 'type' in entry && 'path' in entry;
}

/**
 * Item lists from folders (fast.ai `ImageList.from_folder` + `label_from_folder`): every image file under a
 * folder, recursively, labelled by the name of the folder that holds it.
 */
import { isImageFileName, type DataPlatform } from './platform.js';

/** One image file found by {@link scanFolder}. */
export interface ScannedFile {
  /** Full path (platform-joined). */
  path: string;
  /** Name of the folder holding the file, or null for files directly in the scanned folder. */
  parent: string | null;
}

/** What {@link scanFolder} found. */
export interface ScanResult {
  /** Image files, in sorted path order. */
  files: ScannedFile[];
  /** Leaf folders (no subfolders) that hold no image file, with how many non-image files they hold. */
  emptyFolders: { path: string; otherFiles: number }[];
  /** Files skipped because their name has no image extension. */
  nonImageFiles: number;
}

/** Names compared the way Python's `sorted` compares strings (by code unit, not locale). */
export function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Scans `root` recursively for image files (by extension; hidden files and folders are ignored).
 * Folders named in `exclude` (direct children of `root`) are left out.
 */
export async function scanFolder(platform: DataPlatform, root: string, exclude: readonly string[] = []): Promise<ScanResult> {
  const result: ScanResult = { files: [], emptyFolders: [], nonImageFiles: 0 };
  const walk = async (dir: string, name: string | null, depth: number): Promise<void> => {
    const entries = (await platform.listDir(dir)).slice().sort((a, b) => byName(a.name, b.name));
    let images = 0;
    let others = 0;
    let subfolders = 0;
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = platform.joinPath(dir, e.name);
      if (e.kind === 'directory') {
        if (depth === 0 && exclude.includes(e.name)) continue;
        subfolders++;
        await walk(p, e.name, depth + 1);
      } else if (e.kind === 'file') {
        if (isImageFileName(e.name)) {
          images++;
          result.files.push({ path: p, parent: name });
        } else {
          others++;
        }
      }
    }
    result.nonImageFiles += others;
    if (depth > 0 && images === 0 && subfolders === 0) result.emptyFolders.push({ path: dir, otherFiles: others });
  };
  await walk(root, null, 0);
  return result;
}

/**
 * Dropped or picked files with their relative paths: the browser's stand-in for a folder on disk.
 */

/** A file and its path relative to what the user dropped or picked, with `/` separators (`train/cat/1.jpg`). */
export interface RelativeFile {
  /** Relative path, `/`-separated, no leading `/`. */
  path: string;
  /** The file's bytes (a `File` from a drop or an `<input>`, or any Blob). */
  file: Blob;
}

/** Normalizes a relative path: `\` to `/`, no leading `./` or `/`, no empty or `.` segments. */
export function normalizePath(path: string): string {
  return path
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

/**
 * The files of an `<input type="file" webkitdirectory>` (or `multiple`) selection, keyed by
 * `webkitRelativePath` (which starts with the picked folder's name), else by the file name.
 */
export function filesFromFileList(list: FileList | readonly File[]): RelativeFile[] {
  return Array.from(list, (file) => ({ path: normalizePath(file.webkitRelativePath || file.name), file }));
}

/** The parts of the File and Directory Entries API read here (Chrome, Firefox, Safari). */
interface EntryLike {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  fullPath: string;
}
interface FileEntryLike extends EntryLike {
  file(ok: (f: File) => void, fail: (e: unknown) => void): void;
}
interface DirectoryEntryLike extends EntryLike {
  createReader(): { readEntries(ok: (entries: EntryLike[]) => void, fail: (e: unknown) => void): void };
}

async function walkEntry(entry: EntryLike, out: RelativeFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((ok, fail) => (entry as FileEntryLike).file(ok, fail));
    out.push({ path: normalizePath(entry.fullPath || entry.name), file });
  } else if (entry.isDirectory) {
    const reader = (entry as DirectoryEntryLike).createReader();
    // readEntries returns at most ~100 entries per call: read until it returns none.
    for (;;) {
      const batch = await new Promise<EntryLike[]>((ok, fail) => reader.readEntries(ok, fail));
      if (batch.length === 0) break;
      for (const child of batch) await walkEntry(child, out);
    }
  }
}

/**
 * Every file of a drag-and-drop (`event.dataTransfer`), walking dropped folders recursively; paths start with
 * the dropped folder's name (`doraemon-walle/train/doraemon/1.jpg`). Call it synchronously inside the `drop`
 * handler: the browser empties the DataTransfer once the handler returns.
 */
export function filesFromDataTransfer(dt: DataTransfer): Promise<RelativeFile[]> {
  const entries: EntryLike[] = [];
  const loose: File[] = [];
  for (const item of Array.from(dt.items)) {
    if (item.kind !== 'file') continue;
    const entry = (item as { webkitGetAsEntry?: () => EntryLike | null }).webkitGetAsEntry?.() ?? null;
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  return (async () => {
    const out: RelativeFile[] = loose.map((file) => ({ path: normalizePath(file.name), file }));
    for (const e of entries) await walkEntry(e, out);
    return out;
  })();
}

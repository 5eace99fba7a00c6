/**
 * `untarData(URLs.X)`: fast.ai's `untar_data` — download a data set once into `FASTTS_HOME/archive/`, verify it,
 * extract it into `FASTTS_HOME/data/<name>`, and return that folder on every later call without a request.
 */
import { existsSync } from 'node:fs';
import { access, constants, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkFile, downloadFile, type Checksum, type DownloadOptions } from '../weights/download.js';
import { fasttsHome, isOffline } from '../weights/cache.js';
import { ChecksumError } from '../weights/errors.js';
import { ArchiveError, DatasetHomeError, DatasetIntegrityError, DatasetUnavailableError } from './errors.js';
import { extractTarGz } from './extract.js';
import { getDataset, type ArchiveCheck, type DatasetSpec } from './registry.js';
import { verifyFiles } from './verify.js';

/** Options of {@link untarData}. */
export interface UntarDataOptions {
  /** Cache root (default `FASTTS_HOME`, else `~/.cache/fastts`): archives in `archive/`, data sets in `data/`. */
  home?: string;
  /** Never download (default: `FASTTS_OFFLINE=1`); an archive already in `archive/` is still extracted. */
  offline?: boolean;
  /** Delete the data set's folder and archive first and download again (fast.ai's `force_download`). */
  force?: boolean;
  /** Keep the archive in `FASTTS_HOME/archive/` after extraction, as fast.ai does (default true). */
  keepArchive?: boolean;
  /** Replace the registry's published archive check (a republished archive; tests with a local archive). */
  check?: ArchiveCheck;
  /** Receives warnings (a listed file missing from an archive, a stale archive); default: `warning: ...` on stderr. */
  onWarning?: (message: string) => void;
  /** Download settings: progress bar, retries, mirror (default `FASTTS_MIRROR`), fetch implementation. */
  download?: Omit<DownloadOptions, 'sha256' | 'checksum' | 'size' | 'label'>;
}

/** Where a data set lives under a cache root. */
export interface DatasetPaths {
  /** The extracted data set: `<home>/data/<name>`. */
  folder: string;
  /** The downloaded archive: `<home>/archive/<file>`. */
  archive: string;
}

/** The folder and archive paths of a registered data set (nothing is created). */
export function datasetPaths(spec: DatasetSpec, home: string = fasttsHome()): DatasetPaths {
  return { folder: join(home, 'data', spec.name), archive: join(home, 'archive', spec.archiveName) };
}

/** fast.ai's archive check as {@link checkFile} takes it: size and md5 of the first 2^20 bytes. */
function archiveExpectation(check: ArchiveCheck | undefined): { size?: number; checksum?: Checksum } {
  return check ? { size: check.size, checksum: { algorithm: 'md5', digest: check.md5, firstBytes: 2 ** 20 } } : {};
}

/** Creates each folder and checks it is writable, naming the one that is not. */
async function requireWritable(home: string, folders: string[]): Promise<void> {
  for (const folder of folders) {
    try {
      await mkdir(folder, { recursive: true });
      await access(folder, constants.W_OK);
    } catch (e) {
      const failed = (e as NodeJS.ErrnoException).code === 'ENOTDIR' || !existsSync(home) ? home : folder;
      throw new DatasetHomeError(failed, home, { cause: e });
    }
  }
}

/** Whether a process with this id runs (a process of another user counts as running). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `.<name>.partial-<pid>` folders of extractions whose process is gone (killed midway). */
async function removeStalePartials(dataRoot: string, name: string): Promise<void> {
  const prefix = `.${name}.partial-`;
  for (const entry of await readdir(dataRoot)) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length));
    if (pid === process.pid || !Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) {
      await rm(join(dataRoot, entry), { recursive: true, force: true });
    }
  }
}

/** The extracted content: the archive's single top folder when it has one (fast.ai's archives), else all of it. */
async function contentRoot(dir: string, spec: DatasetSpec): Promise<string> {
  if (spec.files) return dir;
  const entries = await readdir(dir);
  if (entries.length === 1 && (await stat(join(dir, entries[0]!))).isDirectory()) return join(dir, entries[0]!);
  return dir;
}

/**
 * Extracts into `.<name>.partial-<pid>` next to the target, verifies per-file checks, then renames into place:
 * a killed extraction never leaves a folder that looks complete. A corrupt or unsafe archive is deleted.
 */
async function extractDataset(spec: DatasetSpec, paths: DatasetPaths, warn: (m: string) => void): Promise<void> {
  const dataRoot = dirname(paths.folder);
  await removeStalePartials(dataRoot, spec.name);
  const partial = join(dataRoot, `.${spec.name}.partial-${process.pid}`);
  try {
    try {
      await extractTarGz(paths.archive, partial, spec.files ? { root: spec.files.root } : {});
    } catch (e) {
      if (e instanceof ArchiveError) await rm(paths.archive, { force: true });
      throw e;
    }
    const content = await contentRoot(partial, spec);
    if (spec.files) {
      const found = await verifyFiles(content, spec.files.files);
      const bad: Array<[string, string, string | null]> = [
        ...found.differing,
        ...found.unexpected.map((p): [string, string, null] => [p, '', null]),
      ];
      if (bad.length > 0) {
        await rm(paths.archive, { force: true });
        throw new DatasetIntegrityError(spec.name, paths.archive, bad, spec.files.commit);
      }
      for (const path of found.missing) {
        warn(
          `data set '${spec.name}': ${path} (in the pinned commit ${spec.files.commit.slice(0, 12)}) is missing from ` +
            `${paths.archive}; continuing without it`,
        );
      }
    }
    try {
      await rename(content, paths.folder);
    } catch (e) {
      // Another process finished the same extraction first: its folder is as good as ours.
      if (!existsSync(paths.folder)) throw e;
    }
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/**
 * fast.ai's `untar_data`: returns the folder of a data set — a registered name (`'doraemon-walle'`,
 * `'imagenette2-160'`), fast.ai key (`'PETS'`) or URL (`URLs.PETS`, or any `.tgz` URL, unverified) — downloading
 * and extracting it on first use.
 *
 * The archive is downloaded (progress bar on a TTY; an interrupted download resumes) into
 * `FASTTS_HOME/archive/` and kept there, as fast.ai keeps it (`keepArchive: false` deletes it after extraction);
 * fast.ai's sets are verified against fast.ai's published size and md5 (a mismatch deletes the file and throws
 * {@link ChecksumError}); `doraemon-walle`'s extracted images against their git blob ids (a file missing from the
 * archive is a warning naming it, a differing one a {@link DatasetIntegrityError}). Extraction goes to a temporary
 * folder renamed into `FASTTS_HOME/data/<name>` at the end; once it exists, calls return it without any request.
 * `FASTTS_MIRROR` redirects the download (see `mirrorUrl`).
 *
 * Errors: {@link UnknownDatasetError} (suggests close names), {@link DatasetUnavailableError} (offline or the
 * download failed: says what to download and where to put it), {@link DatasetHomeError} (FASTTS_HOME not
 * writable), {@link ArchiveError} (unreadable archive, or entries outside the folder: refused).
 */
export async function untarData(urlOrName: string, options: UntarDataOptions = {}): Promise<string> {
  const spec = getDataset(urlOrName);
  const home = options.home ?? fasttsHome();
  const paths = datasetPaths(spec, home);
  const warn = options.onWarning ?? ((m: string) => void process.stderr.write(`warning: ${m}\n`));
  if (options.force) {
    await requireWritable(home, [dirname(paths.folder), dirname(paths.archive)]);
    await rm(paths.folder, { recursive: true, force: true });
    await rm(paths.archive, { force: true });
  } else if (existsSync(paths.folder)) {
    return paths.folder;
  }
  const expect = archiveExpectation(options.check ?? spec.archive);

  let haveArchive = existsSync(paths.archive);
  if (haveArchive) {
    const bad = await checkFile(paths.archive, expect);
    if (bad) {
      warn(`${paths.archive} has ${bad.what} ${bad.actual}, expected ${bad.expected}: deleting it to download it again`);
      await rm(paths.archive, { force: true });
      haveArchive = false;
    }
  }
  if (!haveArchive) {
    if (options.offline ?? isOffline()) {
      throw new DatasetUnavailableError(
        spec.name,
        spec.url,
        paths.archive,
        paths.folder,
        'downloading is disabled (FASTTS_OFFLINE=1)',
      );
    }
    await requireWritable(home, [dirname(paths.archive), dirname(paths.folder)]);
    try {
      await downloadFile(spec.url, paths.archive, { ...options.download, ...expect, label: spec.name });
    } catch (e) {
      if (e instanceof ChecksumError) throw e;
      throw new DatasetUnavailableError(
        spec.name,
        spec.url,
        paths.archive,
        paths.folder,
        `the download failed (${(e as Error).message})`,
        {
          cause: e,
        },
      );
    }
  } else {
    await requireWritable(home, [dirname(paths.folder)]);
  }
  await extractDataset(spec, paths, warn);
  if (options.keepArchive === false) await rm(paths.archive, { force: true });
  return paths.folder;
}

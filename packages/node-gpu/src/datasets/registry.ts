/**
 * The registry of data sets {@link untarData} knows: name (the folder under `FASTTS_HOME/data/`), URL, archive size
 * and how the download is verified.
 *
 * fast.ai's sets are checked as fast.ai checks them: the archive's size and the md5 of its first 2^20 bytes, the
 * values fast.ai publishes in fastai/fastai `fastai/data/download_checks.py` (commit 63b624c696c9, the file
 * `fastdownload` reads; the older `fastai/data/checks.txt`, url -> [size, md5], has the same scheme). That is what
 * is published, and it catches truncated, replaced and wrong files; it is no cryptographic pin of the whole archive.
 *
 * `doraemon-walle` is GitHub's `.tar.gz` of a pinned commit. GitHub may re-create archive bytes, so the archive is
 * not pinned; each extracted image is checked against its git blob id instead (see `doraemon-walle-files.ts`).
 */
import { distance } from 'fastest-levenshtein';
import { DORAEMON_WALLE_COMMIT, DORAEMON_WALLE_FILES } from './doraemon-walle-files.js';
import { UnknownDatasetError } from './errors.js';
import { URLs, type DatasetKey } from './urls.js';

/** fast.ai's published check of an archive: its size and the md5 of its first 2^20 bytes. */
export interface ArchiveCheck {
  size: number;
  md5: string;
}

/** Files checked one by one after extraction, against the git blob ids of a pinned commit. */
export interface FileCheck {
  /** The commit the blob ids come from. */
  commit: string;
  /** The folder of the repository that holds the data set (`imgs` holds train/, valid/, test/). */
  root: string;
  /** [path in the data set folder, git blob id, size or null when unknown]. */
  files: ReadonlyArray<readonly [string, string, number | null]>;
}

/** A registered data set. */
export interface DatasetSpec {
  /** The folder name under `FASTTS_HOME/data/` (fast.ai's: the archive's name without `.tgz`). */
  name: string;
  /** fast.ai's name in {@link URLs} (absent for an unregistered URL). */
  key?: DatasetKey;
  /** The canonical download URL. */
  url: string;
  /** File name of the archive under `FASTTS_HOME/archive/`. */
  archiveName: string;
  /** Bytes to download (published), or the images' total where the archive itself is not pinned. */
  bytes: number;
  /** fast.ai's published size and md5 of the archive, verified after download. */
  archive?: ArchiveCheck;
  /** Per-file blob ids, verified after extraction. */
  files?: FileCheck;
}

/** fast.ai's published [size, md5 of the first MiB] for the image data sets (download_checks.py, see above). */
const FASTAI: Array<[DatasetKey, number, string]> = [
  ['PETS', 811706944, 'e4db5c768afd933bb91f5f594d7417a4'],
  ['IMAGENETTE', 1557161267, '2c774ecb40005b35d7937d50f5d42336'],
  ['IMAGENETTE_160', 99003388, 'c475f8f7617a200ba35b9facc48443c3'],
  ['IMAGENETTE_320', 341663724, '1f1f74f133caff120e575856659b87a2'],
  ['IMAGEWOOF', 1343715595, '2cc1c1e36e20cb6fd24ffb978edcb487'],
  ['IMAGEWOOF_160', 92612825, '3559b194123981a540b87132dbda412f'],
  ['IMAGEWOOF_320', 328387740, '7a1fd92672a559a85de76e4810a20c21'],
  ['MNIST_SAMPLE', 3214948, '2dbc7ec6f9259b583af0072c55816a88'],
  ['MNIST_TINY', 342207, '56143e8f24db90d925d82a5a74141875'],
  ['MNIST_VAR_SIZE_TINY', 565372, 'b71a930f4eb744a4a143a6c7ff7ed67f'],
  ['MNIST', 15683414, '03639f83c4e3d19e0a3a53a8a997c487'],
  ['CIFAR', 168168549, 'a5f8c31371b63a406b23368042812d3c'],
  ['CIFAR_100', 169168619, 'e5e65dcb54b9d3913f7b8a9ad6607e62'],
  ['CALTECH_101', 131740031, 'd673425306e98ee4619fcdeef8a0e876'],
  ['CARS', 1957803273, '9045d6673c9ced0889f41816f6bf2f9f'],
  ['CUB_200_2011', 1150585339, 'd2acaa99439dff0483c7bbac1bfe2a92'],
  ['FLOWERS', 345236087, '5666e01c1311b4c67fcf20d2b3850a88'],
  ['FOOD', 5686607260, '1a540ebf1fb40b2bf3f2294234ba7907'],
  ['DOGS', 839285364, '3e483c8d6ef2175e9d395a6027eb92b7'],
];

/** The archive's file name in a URL (`.../oxford-iiit-pet.tgz` -> `oxford-iiit-pet.tgz`). */
function urlFileName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
}

/** fast.ai's folder name of an archive: the file name without `.tgz`/`.tar.gz`. */
export function archiveStem(fileName: string): string {
  return fileName.replace(/\.(tgz|tar\.gz)$/i, '');
}

const DATASETS: DatasetSpec[] = [
  {
    name: 'doraemon-walle',
    key: 'DORAEMON_WALLE',
    url: URLs.DORAEMON_WALLE,
    archiveName: `doraemon-walle-${DORAEMON_WALLE_COMMIT.slice(0, 7)}.tar.gz`,
    bytes: DORAEMON_WALLE_FILES.reduce((s, [, , size]) => s + (size ?? 0), 0),
    files: { commit: DORAEMON_WALLE_COMMIT, root: 'imgs', files: DORAEMON_WALLE_FILES },
  },
  ...FASTAI.map(([key, size, md5]): DatasetSpec => {
    const archiveName = urlFileName(URLs[key]);
    return { name: archiveStem(archiveName), key, url: URLs[key], archiveName, bytes: size, archive: { size, md5 } };
  }),
];

/** Every registered data set, the tutorial's first, then fast.ai's. */
export function listDatasets(): readonly DatasetSpec[] {
  return DATASETS;
}

const norm = (s: string): string => s.toLowerCase().replace(/-/g, '_');

/**
 * The data set for a name (`'doraemon-walle'`, `'imagenette2-160'`), a fast.ai key (`'PETS'`, `'imagenette_160'`,
 * case-insensitive) or a registered URL (`URLs.PETS`); `undefined` when none matches.
 */
export function findDataset(nameOrUrl: string): DatasetSpec | undefined {
  const n = norm(nameOrUrl);
  return DATASETS.find((d) => d.url === nameOrUrl || norm(d.name) === n || (d.key !== undefined && norm(d.key) === n));
}

/** Up to three registered names close to `name` (edit distance, or one containing the other). */
export function suggestDatasets(name: string): string[] {
  const n = norm(name);
  return DATASETS.map((d) => {
    const scores = [d.name, ...(d.key ? [d.key] : [])].map(norm).map((k) => ({ k, dist: distance(n, k) }));
    const close = scores.filter(
      ({ k, dist }) => dist <= Math.max(2, Math.floor(k.length / 3)) || (n.length >= 3 && k.includes(n)),
    );
    return { name: d.name, dist: close.length > 0 ? Math.min(...close.map((c) => c.dist)) : Infinity };
  })
    .filter((s) => Number.isFinite(s.dist))
    .sort((a, b) => a.dist - b.dist)
    .slice(0, 3)
    .map((s) => s.name);
}

/**
 * The data set for a name, key or URL (see {@link findDataset}). An http(s) URL that is not registered is
 * accepted as fast.ai's `untar_data` accepts any URL (no checksum; folder named after the archive); anything else
 * throws {@link UnknownDatasetError} listing the closest names.
 */
export function getDataset(nameOrUrl: string): DatasetSpec {
  const found = findDataset(nameOrUrl);
  if (found) return found;
  if (/^https?:\/\//i.test(nameOrUrl)) {
    const archiveName = urlFileName(nameOrUrl);
    const name = archiveStem(archiveName);
    if (!/\.(tgz|tar\.gz)$/i.test(archiveName) || name === '' || name.startsWith('.')) {
      throw new UnknownDatasetError(nameOrUrl, [], 'only .tgz / .tar.gz archives can be downloaded');
    }
    return { name, url: nameOrUrl, archiveName, bytes: 0 };
  }
  throw new UnknownDatasetError(nameOrUrl, suggestDatasets(nameOrUrl));
}

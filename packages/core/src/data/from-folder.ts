/**
 * `fromFolder`: a DataBunch from a folder of images in the ImageNet layout (fast.ai
 * `ImageDataBunch.from_folder`): `train/<class>/*`, `valid/<class>/*`, optional unlabelled `test/*`, or one
 * labelled pool split at random with `validPct`.
 */
import type { TransformSet } from '../transforms/augmentation.js';
import { mapLimit } from './concurrency.js';
import { DataBunch } from './databunch.js';
import { DataLoader } from './dataloader.js';
import { ImageCache, ImageDataset } from './dataset.js';
import {
  DataError,
  errorMessage,
  FolderNotFoundError,
  ImageDecodeError,
  InvalidOptionError,
  NoImagesError,
  NotAFolderError,
  type DataWarning,
  type SkippedFile,
} from './errors.js';
import type { DecodeTarget } from './image.js';
import { IMAGE_EXTENSIONS, type DataPlatform } from './platform.js';
import { randomSeed } from './rng.js';
import { byName, scanFolder, type ScannedFile } from './scan.js';
import { splitByRandPct } from './split.js';

/** Options of `fromFolder` (fast.ai's keyword arguments in camelCase). */
export interface FromFolderOptions {
  /** Training folder name under the root. Default 'train'. */
  train?: string;
  /** Validation folder name under the root (ignored when `validPct` is set). Default 'valid'. */
  valid?: string;
  /** Unlabelled test folder name under the root. Default: no test set. */
  test?: string;
  /**
   * Fraction of the labelled images to hold out at random for validation. As in fast.ai, the labelled pool is
   * every image under the root except the test folder (train and valid folders alike), labelled by its folder.
   */
  validPct?: number;
  /** Seed of the random split, the shuffles and the augmentation. Default: random. */
  seed?: number;
  /** Image side in pixels. Default 224. */
  size?: number;
  /** Batch size. Default 64. */
  bs?: number;
  /** Validation/test batch size. Default `bs`. */
  valBs?: number;
  /** Augmentation (`getTransforms()`); default none: resize + center crop for every set. */
  tfms?: TransformSet | null;
  /** fast.ai v1's name of {@link tfms} (`ds_tfms`). */
  dsTfms?: TransformSet | null;
  /** Class list to use, in this order (default: the training folders' names, sorted). */
  classes?: string[];
  /**
   * Side of the square canvas images are decoded to and cached at (the whole image squished; its original aspect
   * ratio is kept aside and restored by the transforms). Default `round(1.5 * size)`.
   */
  decodeSize?: number;
  /** Batches decoded ahead. Default 2. */
  prefetch?: number;
  /**
   * How files are checked when the data bunch is made: 'header' (default) reads each file's header and end to
   * skip non-images, unsupported formats and truncated files; 'full' decodes every image now (and keeps it in
   * the cache), skipping any that fails; 'none' checks nothing (a bad file then fails the batch that holds it).
   */
  verify?: 'header' | 'full' | 'none';
  /** Byte budget of the decoded-image cache. Default 2 GiB. */
  cacheBytes?: number;
  /** Called for every warning (skipped file, empty class folder, ...). Default: `console.warn`. */
  onWarning?: (w: DataWarning) => void;
}

interface Labelled {
  path: string;
  label: string;
}

const DEFAULT_SIZE = 224;

// core has no DOM/Node typings: reach the console both platforms have through globalThis.
const defaultWarning = (w: DataWarning): void => {
  (globalThis as { console?: { warn(msg: string): void } }).console?.warn(`fastts: ${w.message}`);
};
const DEFAULT_BS = 64;

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new InvalidOptionError(name, `must be a positive integer, got ${v}`);
  return v;
}

/** Builds a DataBunch from a folder with the given platform (see {@link imageDataLoadersFor}). */
export async function fromFolderWith(platform: DataPlatform, path: string, opts: FromFolderOptions = {}): Promise<DataBunch> {
  const size = positiveInt('size', opts.size ?? DEFAULT_SIZE);
  if (size < 2) throw new InvalidOptionError('size', `must be at least 2, got ${size}`);
  const bs = positiveInt('bs', opts.bs ?? DEFAULT_BS);
  const valBs = positiveInt('valBs', opts.valBs ?? bs);
  const decodeSize = positiveInt('decodeSize', opts.decodeSize ?? Math.round(1.5 * size));
  const seed = opts.seed ?? randomSeed();
  const verify = opts.verify ?? 'header';
  if (!['header', 'full', 'none'].includes(verify)) {
    throw new InvalidOptionError('verify', `must be 'header', 'full' or 'none', got ${String(verify)}`);
  }
  const trainName = opts.train ?? 'train';
  const validName = opts.valid ?? 'valid';
  const testName = opts.test;

  const warnings: DataWarning[] = [];
  const skipped: SkippedFile[] = [];
  const onWarning = opts.onWarning ?? defaultWarning;
  const warn = (w: DataWarning): void => {
    warnings.push(w);
    onWarning(w);
  };
  const skip = (file: string, reason: string): void => {
    skipped.push({ path: file, reason });
    warn({ code: 'skipped-file', path: file, message: `skipped ${file}: ${reason}` });
  };

  const rootEntries = await platform.listDir(path).catch((e: unknown) => {
    if (e instanceof DataError) throw e;
    throw new FolderNotFoundError(path, errorMessage(e));
  });
  const subfolders = rootEntries
    .filter((e) => e.kind === 'directory' && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byName);
  const describeSubfolders = (): string =>
    subfolders.length ? `its subfolders are: ${subfolders.join(', ')}` : 'it has no subfolders';
  const requireSub = (name: string, option: string, extra = ''): string => {
    const full = platform.joinPath(path, name);
    const entry = rootEntries.find((e) => e.name === name);
    if (!entry) throw new FolderNotFoundError(full, `${describeSubfolders()}; pass { ${option}: '<folder>' }${extra}`);
    if (entry.kind !== 'directory') throw new NotAFolderError(full);
    return full;
  };

  const reportEmpty = (folders: { path: string; otherFiles: number }[]): void => {
    for (const f of folders) {
      warn({
        code: 'empty-class-folder',
        path: f.path,
        message:
          `folder ${f.path} holds no images` +
          (f.otherFiles ? ` (only ${f.otherFiles} files without an image extension: ${IMAGE_EXTENSIONS.join(' ')})` : '') +
          ': it is ignored and gives no class',
      });
    }
  };
  // Images must sit in a class folder; a file directly in the scanned root has no label.
  const labelled = (files: ScannedFile[], root: string): Labelled[] => {
    const out: Labelled[] = [];
    for (const f of files) {
      if (f.parent === null) skip(f.path, `it is not inside a class folder (move it to ${platform.joinPath(root, '<class>')})`);
      else out.push({ path: f.path, label: f.parent });
    }
    return out;
  };
  const noImages = (folder: string, extra = ''): NoImagesError =>
    new NoImagesError(
      folder,
      `expected image files (${IMAGE_EXTENSIONS.join(' ')}) in class subfolders like ${platform.joinPath(folder, '<class>', 'image.jpg')}${extra}`,
    );

  const cache = new ImageCache(opts.cacheBytes);
  const decodeTarget: DecodeTarget = { width: decodeSize, height: decodeSize, fit: 'fill' };
  // Keeps the files that pass the chosen check; names and counts every file that does not.
  const check = async <T extends { path: string }>(files: T[]): Promise<T[]> => {
    if (verify === 'none') return files;
    const ok = await mapLimit(files, 16, async (f) => {
      try {
        if (verify === 'full')
          await cache.get(`${f.path}\u0000${decodeSize}x${decodeSize}:fill`, decodeSize * decodeSize * 3, () =>
            platform.decodeImage(f.path, decodeTarget),
          );
        else await platform.probeImage(f.path);
        return true;
      } catch (e) {
        skip(f.path, e instanceof ImageDecodeError ? e.reason : errorMessage(e));
        return false;
      }
    });
    return files.filter((_, i) => ok[i]);
  };

  let train: Labelled[];
  let valid: Labelled[];
  let trainRoot: string;
  if (opts.validPct !== undefined) {
    const scan = await scanFolder(platform, path, testName ? [testName] : []);
    reportEmpty(scan.emptyFolders);
    const pool = await check(labelled(scan.files, path));
    if (pool.length === 0) throw noImages(path);
    const split = splitByRandPct(pool.length, opts.validPct, seed);
    train = split.train.map((i) => pool[i]!);
    valid = split.valid.map((i) => pool[i]!);
    trainRoot = path;
  } else {
    trainRoot = requireSub(trainName, 'train');
    const validRoot = requireSub(validName, 'valid', ' or { validPct: 0.2 } for a random split');
    const trainScan = await scanFolder(platform, trainRoot);
    const validScan = await scanFolder(platform, validRoot);
    reportEmpty(trainScan.emptyFolders);
    reportEmpty(validScan.emptyFolders);
    if (trainScan.files.length === 0) throw noImages(trainRoot);
    train = await check(labelled(trainScan.files, trainRoot));
    valid = await check(labelled(validScan.files, validRoot));
    if (valid.length === 0 && validScan.files.length === 0) throw noImages(validRoot);
  }
  if (train.length === 0) throw noImages(trainRoot, ' (every file found was skipped, see the warnings)');

  let classes: string[];
  if (opts.classes) {
    classes = [...opts.classes];
    if (new Set(classes).size !== classes.length) throw new InvalidOptionError('classes', 'has duplicate names');
  } else {
    classes = [...new Set(train.map((t) => t.label))].sort(byName);
  }
  const index = new Map(classes.map((c, i) => [c, i]));
  const toLabels = (list: Labelled[], which: string): { items: string[]; labels: number[] } => {
    const items: string[] = [];
    const labels: number[] = [];
    for (const t of list) {
      const l = index.get(t.label);
      if (l === undefined) {
        skipped.push({ path: t.path, reason: `unknown class "${t.label}"` });
        warn({
          code: 'unknown-label',
          path: t.path,
          message: `skipped ${t.path}: its class "${t.label}" is not one of the ${which === 'train' ? 'given' : 'training'} classes (${classes.join(', ')})`,
        });
      } else {
        items.push(t.path);
        labels.push(l);
      }
    }
    return { items, labels };
  };
  const trainSet = toLabels(train, 'train');
  const validSet = toLabels(valid, 'valid');
  if (trainSet.items.length === 0) throw noImages(trainRoot, ' (no image has one of the given classes)');
  if (validSet.items.length === 0) {
    throw new NoImagesError(
      opts.validPct !== undefined ? path : platform.joinPath(path, validName),
      'no validation image is left (see the warnings)',
    );
  }

  const prefetch = opts.prefetch ?? 2;
  const aug = opts.tfms ?? opts.dsTfms ?? null;
  const trainDl = new DataLoader(new ImageDataset(trainSet.items, trainSet.labels, classes, platform, decodeTarget, cache), {
    bs,
    size,
    shuffle: true,
    dropLast: true,
    augmentation: aug?.train ?? {},
    prefetch,
    seed,
  });
  const validDl = new DataLoader(new ImageDataset(validSet.items, validSet.labels, classes, platform, decodeTarget, cache), {
    bs: valBs,
    size,
    augmentation: aug?.valid ?? {},
    prefetch,
    seed: seed + 1,
  });
  let testDl: DataLoader | undefined;
  if (testName !== undefined) {
    const testRoot = requireSub(testName, 'test');
    const scan = await scanFolder(platform, testRoot);
    const files = await check(scan.files);
    if (files.length === 0) throw new NoImagesError(testRoot, `expected image files (${IMAGE_EXTENSIONS.join(' ')})`);
    testDl = new DataLoader(
      new ImageDataset(
        files.map((f) => f.path),
        files.map(() => -1),
        classes,
        platform,
        decodeTarget,
        cache,
      ),
      { bs: valBs, size, augmentation: aug?.valid ?? {}, prefetch, seed: seed + 2 },
    );
  }
  return new DataBunch({
    path,
    classes,
    trainDl,
    validDl,
    ...(testDl ? { testDl } : {}),
    size,
    skipped,
    warnings,
  });
}

/** The `ImageDataLoaders` entry points bound to one platform. */
export interface ImageDataLoadersApi {
  /** A DataBunch from a folder of images (see {@link FromFolderOptions}). */
  fromFolder(path: string, opts?: FromFolderOptions): Promise<DataBunch>;
}

/**
 * fast.ai's `ImageDataLoaders` for a platform. `@fastts/node-gpu` exports `ImageDataLoaders` bound to Node's file
 * system; a browser platform binds its own.
 */
export function imageDataLoadersFor(platform: DataPlatform): ImageDataLoadersApi {
  return { fromFolder: (path, opts) => fromFolderWith(platform, path, opts) };
}

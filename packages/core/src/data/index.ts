/**
 * Data: item lists from folders, labels from parent folders, train/valid/test splits, DataLoader (batching,
 * seeded shuffle, drop-last, prefetch, decoded-pixel cache), DataBunch and `fromFolder`. Platform-free: files are
 * listed and decoded through a {@link DataPlatform}.
 */
export { assertDecodedImage, type DecodedImage, type DecodeTarget, type ImageProbe } from './image.js';
export { IMAGE_EXTENSIONS, isImageFileName, type DataPlatform, type DirEntry } from './platform.js';
export {
  DataError,
  FolderNotFoundError,
  ImageDecodeError,
  InvalidOptionError,
  NoImagesError,
  NotAFolderError,
  type DataWarning,
  type DataWarningCode,
  type SkippedFile,
} from './errors.js';
export { createRng, logUniform, permutation, randBool, randInt, randomSeed, uniform, type Rng } from './rng.js';
export { scanFolder, type ScannedFile, type ScanResult } from './scan.js';
export { splitByRandPct } from './split.js';
export { ImageCache, ImageDataset } from './dataset.js';
export { DataLoader, type Batch, type DataLoaderOptions, type IterateOptions } from './dataloader.js';
export { DataBunch, type DataBunchParts } from './databunch.js';
export { fromFolderWith, imageDataLoadersFor, type FromFolderOptions, type ImageDataLoadersApi } from './from-folder.js';
export { mapLimit } from './concurrency.js';
export { loadImageBatchWith, type LoadImageBatchOptions } from './load-images.js';

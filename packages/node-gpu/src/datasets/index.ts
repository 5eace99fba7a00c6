/**
 * Data sets, fast.ai style: `untarData(URLs.PETS)` downloads a registered data set once into
 * `FASTTS_HOME/data/<name>` (verified, resumable, through `FASTTS_MIRROR` when set) and returns the folder.
 */
export { URLs } from './urls.js';
export type { DatasetKey } from './urls.js';
export { listDatasets, findDataset, getDataset, suggestDatasets } from './registry.js';
export type { DatasetSpec, ArchiveCheck, FileCheck } from './registry.js';
export { untarData, datasetPaths } from './untar-data.js';
export type { UntarDataOptions, DatasetPaths } from './untar-data.js';
export { gitBlobId, verifyFiles } from './verify.js';
export type { FileVerification } from './verify.js';
export { extractTarGz } from './extract.js';
export type { ExtractOptions } from './extract.js';
export { UnknownDatasetError, DatasetUnavailableError, DatasetHomeError, DatasetIntegrityError, ArchiveError } from './errors.js';

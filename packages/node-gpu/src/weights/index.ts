/**
 * The Node weight cache: `loadPretrained(arch)` reads `FASTTS_HOME/models/<arch>/` (default
 * `~/.cache/fastts`) and downloads missing files from the canonical host (sha256-verified, resumable).
 */
export { fetchPretrained, loadPretrained, pickPretrained } from './load.js';
export type { LoadPretrainedOptions, PretrainedFiles } from './load.js';
export { downloadFile, mirrorUrl, checkFile, fileDigest, describeChecksum } from './download.js';
export type { DownloadOptions, Checksum, HashAlgorithm, FileMismatch } from './download.js';
export { fasttsHome, pretrainedDir, isOffline } from './cache.js';
export { PretrainedUnavailableError, DownloadError, ChecksumError, CachedWeightsError } from './errors.js';

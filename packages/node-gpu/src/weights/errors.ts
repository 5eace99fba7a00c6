/** Errors of the Node weight cache. */

/**
 * Pretrained weights are neither in the cache nor downloadable (offline mode or a network failure).
 * The message says which file(s) to fetch and exactly where to put them.
 */
export class PretrainedUnavailableError extends Error {
  override readonly name = 'PretrainedUnavailableError';
  constructor(
    readonly arch: string,
    /** The cache folder the files belong in. */
    readonly folder: string,
    /** `[url, destination path]` of each file still needed. */
    readonly files: Array<[string, string]>,
    reason: string,
    options?: { cause?: unknown },
  ) {
    const list = files.map(([url, dest]) => `  ${url}\n    -> ${dest}`).join('\n');
    super(
      `pretrained weights for '${arch}' are not in ${folder} and ${reason}.\n` +
        `Download these file(s) and save them as shown:\n${list}\n` +
        'or point FASTTS_HOME at a folder that holds models/<arch>/ with them.',
      options,
    );
  }
}

/** A download failed after all retries (HTTP error, connection failure, size mismatch). */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`download of ${url} failed: ${message}`, options);
  }
}

/**
 * A downloaded file does not match its pinned checksum or size (the partial file is deleted). `what` names the
 * check: `sha256` (weights), `md5 of the first MiB` (fast.ai's published data set checks) or `size`.
 */
export class ChecksumError extends Error {
  override readonly name = 'ChecksumError';
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
    readonly what: string = 'sha256',
  ) {
    const partial = what !== 'size' && expected.length < actual.length;
    super(
      `download of ${url} has ${what} ${actual}, expected ${partial ? `a hash starting with ${expected}` : expected}: ` +
        'the file is corrupt or was replaced upstream; it was deleted',
    );
  }
}

/** A file in the weight cache exists but cannot be read as weights (truncated, corrupt, wrong model). */
export class CachedWeightsError extends Error {
  override readonly name = 'CachedWeightsError';
  constructor(
    /** The offending file or folder. */
    readonly path: string,
    options: { cause: unknown },
  ) {
    super(
      `cannot load the cached weights at ${path}: ${(options.cause as Error)?.message ?? String(options.cause)}. ` +
        'Delete the file(s) to have them downloaded again, or replace them with a good copy.',
      options,
    );
  }
}

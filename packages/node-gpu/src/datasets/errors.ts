/** Errors of {@link untarData}: each names the data set, the file or folder, and what to do. */

/** A name that is no registered data set; lists the closest names. */
export class UnknownDatasetError extends Error {
  override readonly name = 'UnknownDatasetError';
  constructor(
    readonly dataset: string,
    readonly suggestions: string[],
    /** Why, when it is more than "not registered". */
    readonly reason?: string,
  ) {
    super(
      `unknown data set '${dataset}'${reason ? ` (${reason})` : ''}. ` +
        (suggestions.length > 0 ? `Did you mean ${suggestions.map((s) => `'${s}'`).join(' or ')}? ` : '') +
        "See 'fastts datasets list' (or URLs in @fastts/node-gpu) for the registered names.",
    );
  }
}

/**
 * A data set is neither extracted nor downloadable (offline mode, or the download failed). The message says what
 * to download and exactly where to put it, or how to use a mirror.
 */
export class DatasetUnavailableError extends Error {
  override readonly name = 'DatasetUnavailableError';
  constructor(
    readonly dataset: string,
    readonly url: string,
    /** Where the archive belongs (`FASTTS_HOME/archive/<file>`). */
    readonly archive: string,
    /** Where the extracted data set belongs (`FASTTS_HOME/data/<name>`). */
    readonly folder: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    const host = /^https?:\/\/(.+)$/i.exec(url)?.[1] ?? url;
    super(
      `data set '${dataset}' is not in ${folder} and ${reason}.\n` +
        `Download\n  ${url}\nand save it as\n  ${archive}\n` +
        `(the next run verifies and extracts it), or put the extracted data set at ${folder};\n` +
        `or set FASTTS_MIRROR=<base URL> to a mirror that serves it as <base URL>/${host}.`,
      options,
    );
  }
}

/** `FASTTS_HOME` (or the folder under it a data set needs) cannot be created or written. */
export class DatasetHomeError extends Error {
  override readonly name = 'DatasetHomeError';
  constructor(
    /** The folder that could not be written. */
    readonly folder: string,
    readonly home: string,
    options: { cause: unknown },
  ) {
    const e = options.cause as NodeJS.ErrnoException;
    const why = e?.code ? `${e.code}: ${e.message.replace(/^[A-Z]+:\s*/, '').replace(/,.*$/, '')}` : String(e?.message ?? e);
    super(
      `cannot write to ${folder} (${why}), where FASTTS_HOME=${home} keeps data sets. ` +
        'Set FASTTS_HOME to a writable folder, or fix the permissions of that one.',
      options,
    );
  }
}

/** Extracted files differ from the pinned ones (or are not part of the pinned commit); the archive was deleted. */
export class DatasetIntegrityError extends Error {
  override readonly name = 'DatasetIntegrityError';
  constructor(
    readonly dataset: string,
    readonly archive: string,
    /** [path, actual blob id, expected blob id]; expected is null for a file the pinned commit does not have. */
    readonly files: Array<[string, string, string | null]>,
    commit: string,
  ) {
    const shown = files
      .slice(0, 3)
      .map(([p, actual, expected]) =>
        expected ? `${p} (git blob ${actual}, expected ${expected})` : `${p} (not in the commit)`,
      );
    super(
      `data set '${dataset}': ${files.length} file(s) in ${archive} differ from the pinned commit ${commit.slice(0, 12)}: ` +
        `${shown.join(', ')}${files.length > 3 ? ', ...' : ''}. The archive is corrupt or not the pinned one and was ` +
        'deleted; run again to download it afresh (if FASTTS_MIRROR is set, check what the mirror serves).',
    );
  }
}

/** An archive that cannot be read, or holds entries that would land outside its folder; it was deleted. */
export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
  constructor(
    readonly archive: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`archive ${archive} ${reason}; it was deleted, run again to download it afresh`, options);
  }
}

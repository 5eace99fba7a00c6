/**
 * Errors and warnings of the data pipeline. Every bad input ends in one of these, with a message that names the
 * file or folder and says what to do, never in an obscure stack trace from deep inside a decoder.
 */

/** Base class of every data-pipeline error: catch this to handle any bad-input case. */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A folder that the data set needs does not exist. */
export class FolderNotFoundError extends DataError {
  constructor(
    readonly path: string,
    hint?: string,
  ) {
    super(`folder not found: ${path}${hint ? ` (${hint})` : ''}`);
  }
}

/** A path that should be a folder is a file (or something else). */
export class NotAFolderError extends DataError {
  constructor(readonly path: string) {
    super(`not a folder: ${path}`);
  }
}

/** A folder that should hold images holds none (after skipping unreadable files). */
export class NoImagesError extends DataError {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`no images found in ${path}: ${detail}`);
  }
}

/** An image file that cannot be read or decoded (corrupt, truncated, not an image, unsupported format). */
export class ImageDecodeError extends DataError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`cannot decode image ${path}: ${reason}`);
  }
}

/** An option passed to the data API is out of range or inconsistent. */
export class InvalidOptionError extends DataError {
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(`invalid option \`${option}\`: ${detail}`);
  }
}

/** Kinds of {@link DataWarning}. */
export type DataWarningCode = 'skipped-file' | 'empty-class-folder' | 'unknown-label';

/**
 * Something in the data that was left out or looks wrong, reported (never silently dropped) through the
 * `onWarning` callback of `fromFolder` and kept in `DataBunch.warnings`.
 */
export interface DataWarning {
  /** What kind of problem this is. */
  code: DataWarningCode;
  /** The file or folder concerned. */
  path: string;
  /** A readable sentence naming the path, what happened and what was done about it. */
  message: string;
}

/** A file that was left out of the data set, and why. */
export interface SkippedFile {
  /** The file's path. */
  path: string;
  /** Why it was skipped (e.g. "truncated JPEG: no end-of-image marker"). */
  reason: string;
}

/** Formats an error thrown by an unknown source into one readable line. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

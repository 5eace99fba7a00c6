/**
 * Errors the dashboard's server side raises. Each carries the HTTP status it maps to and a message a person can act
 * on; none of them ever carries a file-system path outside the runs directory or a stack trace to the client.
 */

/** Base class: an error with an HTTP status and a safe, readable message. */
export class DashboardError extends Error {
  /** The HTTP status this error is answered with. */
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = new.target.name;
    this.status = status;
  }
}

/** A run id, file name or architecture name that is not a plain name (traversal, encoding, absolute path...). */
export class InvalidNameError extends DashboardError {
  /** The rejected name (kept for logs; never echoed in the message). */
  readonly rejected: string;
  constructor(kind: string, name: string) {
    super(`invalid ${kind}: use a plain name made of letters, digits, '.', '_', '-' (no '/', '..', '%' or leading '.')`, 400);
    this.rejected = name;
  }
}

/** Something that does not exist in the runs directory or weight cache (or that resolves outside of it). */
export class NotFoundError extends DashboardError {
  constructor(what: string) {
    super(`${what} not found`, 404);
  }
}

/** A file whose type the dashboard does not serve. */
export class UnsupportedFileError extends DashboardError {
  constructor(name: string, allowed: readonly string[]) {
    super(`file ${JSON.stringify(name.slice(0, 80))} is not served: only ${allowed.join(', ')} files are`, 415);
  }
}

/** An upload that is too large or of the wrong type. */
export class UploadRejectedError extends DashboardError {
  constructor(message: string, status = 413) {
    super(message, status);
  }
}

/** Converts any thrown value into a status and a message that is safe to show (no stack, no foreign paths). */
export function toSafeError(err: unknown): { status: number; message: string } {
  if (err instanceof DashboardError) return { status: err.status, message: err.message };
  return { status: 500, message: 'internal error: the dashboard could not read this run (see the server log)' };
}

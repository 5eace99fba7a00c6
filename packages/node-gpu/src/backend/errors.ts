/** Errors of the backend choice and of data-parallel training. */

/** The requested backend cannot be set up (unknown name, bad thread count, already running differently). */
export class BackendSetupError extends Error {
  override readonly name = 'BackendSetupError';
}

/** A data-parallel worker failed, or the trainer was used wrongly (bad batch, disposed, unknown parameter). */
export class DataParallelError extends Error {
  override readonly name = 'DataParallelError';
}

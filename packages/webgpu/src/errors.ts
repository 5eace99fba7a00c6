/**
 * Errors of the browser platform. Each names the thing that was wrong and what to do about it.
 */

/** Base class of every error @fastts/webgpu throws itself (data errors come from @fastts/core). */
export class WebPlatformError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The backend asked for cannot start in this browser; `tried` lists each attempt and why it failed. */
export class BackendUnavailableError extends WebPlatformError {
  constructor(
    message: string,
    /** Each backend tried, in order, with the reason it could not be used. */
    readonly tried: { backend: string; reason: string }[],
  ) {
    super(message);
  }
}

/** A value passed where an image was expected is not something the browser can decode. */
export class UnsupportedImageSourceError extends WebPlatformError {}

/** Errors of the weight readers. Every message names the file format, the offending item and what to do. */

/** A weights file that cannot be read: truncated, corrupt, or not the format it claims to be. */
export class WeightsFormatError extends Error {
  override readonly name: string = 'WeightsFormatError';
  constructor(
    /** The format being read: `safetensors`, `torch checkpoint`, `layers-model`. */
    readonly format: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${format}: ${message}`, options);
  }
}

/**
 * A PyTorch pickle that asks for something a state dict never needs (a global such as `os.system`, or an
 * opcode outside the state-dict subset). Nothing in the file is executed.
 */
export class UnsafePickleError extends WeightsFormatError {
  override readonly name = 'UnsafePickleError';
  constructor(message: string) {
    super(
      'torch checkpoint',
      `${message}. Refusing to load it: only plain state dicts (tensors in (Ordered)dicts) are accepted; nothing from the file was executed`,
    );
  }
}

/** Weights that are readable but do not fit the model they are loaded into (beyond state-dict key/shape checks). */
export class WeightsCompatibilityError extends Error {
  override readonly name = 'WeightsCompatibilityError';
}

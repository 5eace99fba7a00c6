/** Errors of the composed kernels. */

/**
 * A composed kernel needs a building-block kernel (e.g. `Transpose`, `Conv2D`) that the backend does not have,
 * or was asked for something it cannot compute.
 */
export class KernelCompositionError extends Error {
  override readonly name = 'KernelCompositionError';
}

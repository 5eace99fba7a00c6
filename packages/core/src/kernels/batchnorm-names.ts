/**
 * Names of fastts' BatchNorm training kernels. {@link batchNormTrain} runs them where a backend registers all
 * three (wasm: the SIMD engine; webgpu: WGSL reductions) and composes tfjs ops elsewhere.
 */

/** Kernel name: per-channel batch mean and biased variance of x [..., C] (outputs [mean, variance]). */
export const BATCHNORM_STATS = 'FasttsBatchNormStats';
/** Kernel name: BatchNorm backward (inputs dy, x, mean, variance, gamma; attr eps; outputs [dx, dGamma, dBeta]). */
export const BATCHNORM_GRAD = 'FasttsBatchNormGrad';
/** Kernel name: BatchNorm's forward with given statistics (inputs x, mean, variance, gamma, beta; attr eps). */
export const BATCHNORM_APPLY = 'FasttsBatchNormApply';

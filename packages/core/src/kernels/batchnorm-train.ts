/**
 * Training-mode batch normalization with a hand-written gradient.
 *
 * `tf.moments` + `tf.batchNorm` differentiate through tfjs' generic BatchNorm gradient, which tiles the
 * per-channel statistics to the full activation size several times and keeps every intermediate of the moments
 * alive until the backward pass (on resnet34 at 224 px that was a fifth of the step time and most of the
 * memory). Here the forward saves only the input and two per-channel vectors, and the backward is the closed form
 *
 *   x̂ = (x − μ)·σ⁻¹,  dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γσ⁻¹·(dy − dβ/m − x̂·dγ/m)
 *
 * rewritten as `dx = A·dy + B·x + C` with per-channel A, B, C, evaluated by the backend's FusedBatchNorm kernel
 * plus one multiply-add.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BATCHNORM_APPLY, BATCHNORM_GRAD, BATCHNORM_STATS } from './batchnorm-names.js';

/** Result of {@link batchNormTrain}: the normalized output and the batch statistics (biased variance). */
export interface BatchNormTrainResult<T extends tf.Tensor> {
  y: T;
  /** Per-channel batch mean (not differentiable; the caller disposes it). */
  mean: tf.Tensor1D;
  /** Per-channel biased batch variance (not differentiable; the caller disposes it). */
  variance: tf.Tensor1D;
}

/**
 * Normalizes `x` over every axis but the last with the batch statistics, then scales by `gamma` and shifts by
 * `beta` (both `[C]`). Differentiable with respect to `x`, `gamma` and `beta`.
 */
export function batchNormTrain<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
): BatchNormTrainResult<T> {
  const c = x.shape[x.rank - 1]!;
  const axes = [...Array(x.rank - 1).keys()];
  const m = x.size / c;
  let stats: { mean: tf.Tensor1D; variance: tf.Tensor1D } | null = null;
  // Fused kernels where registered: wasm's SIMD engine (registerMissingKernels; channels a multiple of 8) and
  // webgpu's WGSL reductions (patchWebgpuKernels; any channel count).
  const backendName = tf.getBackend();
  const fast =
    (c % 8 === 0 || backendName === 'webgpu') &&
    [BATCHNORM_STATS, BATCHNORM_APPLY, BATCHNORM_GRAD].every((k) => tf.getKernel(k, backendName) !== undefined);
  const f = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xs, g, b] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
    const save = args[3] as tf.GradSaveFunc;
    let mean: tf.Tensor1D;
    let variance: tf.Tensor1D;
    if (fast) {
      [mean, variance] = tf.engine().runKernel(BATCHNORM_STATS, { x: xs }, {}) as unknown as [tf.Tensor1D, tf.Tensor1D];
    } else {
      mean = tf.mean(xs, axes) as tf.Tensor1D;
      variance = tf.mean(tf.squaredDifference(xs, mean), axes) as tf.Tensor1D;
    }
    const y = fast
      ? (tf.engine().runKernel(BATCHNORM_APPLY, { x: xs, mean, variance, gamma: g, beta: b }, {
          eps,
        } as unknown as tf.NamedAttrMap) as tf.Tensor)
      : tf.batchNorm(xs, mean, variance, b, g, eps);
    save([xs, mean, variance, g]);
    stats = { mean: tf.keep(tf.clone(mean)), variance: tf.keep(tf.clone(variance)) };
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sMean, sVar, sGamma] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        if (fast) {
          return tf.engine().runKernel(BATCHNORM_GRAD, { dy, x: sx, mean: sMean, variance: sVar, gamma: sGamma }, {
            eps,
          } as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
        }
        return tf.tidy(() => {
          const invStd = tf.rsqrt(tf.add(sVar, eps));
          const sumDy = tf.sum(dy, axes) as tf.Tensor1D;
          const sumDyX = tf.sum(tf.mul(dy, sx), axes) as tf.Tensor1D;
          // Σ dy·x̂ = σ⁻¹·(Σ dy·x − μ·Σ dy)
          const dGamma = tf.mul(invStd, tf.sub(sumDyX, tf.mul(sMean, sumDy)));
          const a = tf.mul(sGamma, invStd); // A = γσ⁻¹
          const bCoef = tf.neg(tf.div(tf.mul(a, tf.mul(invStd, dGamma)), m)); // B = −Aσ⁻¹·dγ/m
          const cCoef = tf.sub(tf.neg(tf.div(tf.mul(a, sumDy), m)), tf.mul(bCoef, sMean)); // C = −A·dβ/m − B·μ
          // B·x + C through the backend's fused per-channel affine kernel: (x − 0)·1·B + C.
          const affine = tf.batchNorm(sx, tf.zerosLike(sMean), tf.fill([c], 1 - eps), cCoef, bCoef, eps);
          const dx = tf.add(affine, tf.mul(dy, a));
          return [dx, dGamma, sumDy];
        });
      },
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  const y = f(x, gamma, beta) as T;
  const s = stats as unknown as { mean: tf.Tensor1D; variance: tf.Tensor1D };
  return { y, mean: s.mean, variance: s.variance };
}

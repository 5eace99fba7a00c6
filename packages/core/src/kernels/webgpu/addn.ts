/**
 * A fix for tfjs-backend-webgpu 4.22's `AddN`, which gives wrong results on real devices with many inputs.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { WebGpuBackendLike } from './backend-like.js';

const PATCHED = Symbol.for('fastts.webgpuKernelPatched');

/**
 * `AddN` with more inputs than the device's storage-buffer limit (8 per shader stage by default, so more than 7
 * tensors) builds an invalid pipeline: WebGPU reports a validation error on the console and the result is garbage
 * (e.g. a finiteness check over 50 gradients reads NaN). This sums chunks that fit, then the partial sums, as
 * tfjs' own Concat does. Returns whether `AddN` is now the patched one.
 */
export function patchAddN(): boolean {
  const original = tf.getKernel('AddN', 'webgpu');
  if (!original) return false;
  if ((original.kernelFunc as unknown as Record<symbol, boolean>)[PATCHED]) return true;
  const base = original.kernelFunc;
  const addN: tf.KernelFunc = (args) => {
    const inputs = args.inputs as unknown as tf.TensorInfo[];
    const backend = args.backend as unknown as WebGpuBackendLike;
    const max = Math.max(2, backend.device.limits.maxStorageBuffersPerShaderStage - 1);
    if (inputs.length <= max) return base(args);
    const partial: tf.TensorInfo[] = [];
    for (let i = 0; i < inputs.length; i += max) {
      partial.push(base({ ...args, inputs: inputs.slice(i, i + max) as unknown as tf.NamedTensorInfoMap }) as tf.TensorInfo);
    }
    const out = addN({ ...args, inputs: partial as unknown as tf.NamedTensorInfoMap });
    for (const p of partial) backend.disposeData(p.dataId);
    return out;
  };
  (addN as unknown as Record<symbol, boolean>)[PATCHED] = true;
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({ ...original, kernelFunc: addN });
  return true;
}

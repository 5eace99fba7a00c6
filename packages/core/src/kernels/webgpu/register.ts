/**
 * Installs fastts' WebGPU kernels in tfjs' kernel registry for the `webgpu` backend, each keeping the kernel it
 * replaces as its fallback, and can put tfjs' own back (the benchmark compares both).
 */
import * as tf from '@tensorflow/tfjs-core';
import { patchAddN } from './addn.js';
import { webgpuBatchNormApplyKernel, webgpuBatchNormGradKernel, webgpuBatchNormStatsKernel } from './batchnorm.js';
import { webgpuConv2dBackpropFilterKernel } from './conv2d-backprop-filter.js';
import { webgpuConv2dBackpropInputKernel } from './conv2d-backprop-input.js';
import { webgpuDepthwiseBackpropFilterKernel } from './depthwise-backprop-filter.js';

const BACKEND = 'webgpu';

/** Kernels that replace tfjs-backend-webgpu's own (built from the original, which stays the fallback). */
const REPLACEMENTS: Record<string, (original: tf.KernelConfig) => tf.KernelConfig> = {
  Conv2DBackpropFilter: webgpuConv2dBackpropFilterKernel,
  Conv2DBackpropInput: webgpuConv2dBackpropInputKernel,
  DepthwiseConv2dNativeBackpropFilter: webgpuDepthwiseBackpropFilterKernel,
};

/** New kernels tfjs has no counterpart of (core's composed ops call them where registered). */
const ADDITIONS: Array<() => tf.KernelConfig> = [
  webgpuBatchNormStatsKernel,
  webgpuBatchNormApplyKernel,
  webgpuBatchNormGradKernel,
];

const originals = new Map<string, tf.KernelConfig>();
const added = new Set<string>();

/** The kernel names {@link registerWebgpuKernels} installs. */
export function webgpuKernelNames(): string[] {
  return [...Object.keys(REPLACEMENTS), ...ADDITIONS.map((build) => build().kernelName)];
}

/** Options of {@link registerWebgpuKernels}. */
export interface RegisterWebgpuKernelsOptions {
  /**
   * Install the convolution-gradient GEMMs (default true). On a software adapter (SwiftShader) they measured 4-5x
   * slower than tfjs' kernels, whose one-thread-per-output loops suit CPU threads better than workgroup barriers
   * and shared-memory tiles do, so the platforms pass `false` there; the BatchNorm passes win on both.
   */
  convolutionGradients?: boolean;
}

/**
 * Registers fastts' WGSL kernels for the `webgpu` backend: the convolution gradients as tiled GEMMs and the
 * BatchNorm training passes as fused reductions. Each replaced kernel keeps tfjs' own as the fallback for what it
 * does not handle (NCHW, non-float32). Idempotent; returns the kernels now installed. Call after
 * `@tensorflow/tfjs-backend-webgpu` is imported.
 */
export function registerWebgpuKernels(options: RegisterWebgpuKernelsOptions = {}): string[] {
  const installed: string[] = [];
  const replacements = (options.convolutionGradients ?? true) ? Object.entries(REPLACEMENTS) : [];
  for (const [name, build] of replacements) {
    if (originals.has(name)) {
      installed.push(name);
      continue;
    }
    const original = tf.getKernel(name, BACKEND);
    if (!original) continue;
    originals.set(name, original);
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(build(original));
    installed.push(name);
  }
  for (const build of ADDITIONS) {
    const config = build();
    if (!added.has(config.kernelName)) {
      if (tf.getKernel(config.kernelName, BACKEND)) tf.unregisterKernel(config.kernelName, BACKEND);
      tf.registerKernel(config);
      added.add(config.kernelName);
    }
    installed.push(config.kernelName);
  }
  return installed;
}

/** Puts tfjs-backend-webgpu's own kernels back and removes fastts' additions (for before/after comparisons). */
export function unregisterWebgpuKernels(): void {
  for (const [name, original] of originals) {
    tf.unregisterKernel(name, BACKEND);
    tf.registerKernel(original);
  }
  originals.clear();
  for (const name of added) tf.unregisterKernel(name, BACKEND);
  added.clear();
}

/** Options of {@link patchWebgpuKernels}. */
export interface PatchWebgpuKernelsOptions {
  /** Also install fastts' WGSL kernels ({@link registerWebgpuKernels}). Default true. */
  fasttsKernels?: boolean;
  /**
   * The adapter is a software fallback (SwiftShader): keep tfjs' convolution gradients, which are faster there
   * (see {@link RegisterWebgpuKernelsOptions.convolutionGradients}). Default false.
   */
  softwareAdapter?: boolean;
}

/**
 * Makes tfjs-backend-webgpu 4.22 safe and fast for training: fixes `AddN` with many inputs (wrong results on real
 * devices) and installs fastts' WGSL kernels. Idempotent; call after `@tensorflow/tfjs-backend-webgpu` is
 * imported. Returns the kernels patched or installed.
 */
export function patchWebgpuKernels(options: PatchWebgpuKernelsOptions = {}): string[] {
  const out = patchAddN() ? ['AddN'] : [];
  if (options.fasttsKernels ?? true)
    out.push(...registerWebgpuKernels({ convolutionGradients: !(options.softwareAdapter ?? false) }));
  return out;
}

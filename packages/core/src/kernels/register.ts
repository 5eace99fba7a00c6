/**
 * Registers composed gradient kernels for a backend: those it lacks, and (on request, or by the per-backend
 * defaults) those whose own implementation is known to be much slower than the composition.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterKernel } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputKernel } from './conv2d-backprop-input.js';
import { depthwiseBackpropFilterKernel, depthwiseBackpropInputKernel } from './depthwise-backprop.js';
import { KernelCompositionError } from './errors.js';
import { clearFilterCache, isHostBackend } from './filter-cache.js';
import { maxPoolGradKernel } from './maxpool-grad.js';
import { sharedIdentityKernel } from './shared-identity.js';
import { simdReluGradKernel } from './relu-grad.js';
import { relaxedSimdSupported, simdSupported } from './simd/conv-kernels.js';
import {
  simdBatchNormApplyKernel,
  simdBatchNormGradKernel,
  simdBatchNormStatsKernel,
  simdChannelSumKernel,
  simdConv2dBackpropFilterKernel,
  simdConv2dBackpropInputKernel,
  simdConv2dKernel,
  simdFusedConv2dKernel,
} from './simd/simd-kernels.js';

/** The kernel names fastts can compose. */
export type ComposedKernelName =
  | 'Conv2DBackpropFilter'
  | 'Conv2DBackpropInput'
  | 'DepthwiseConv2dNativeBackpropFilter'
  | 'DepthwiseConv2dNativeBackpropInput'
  | 'MaxPoolGrad';

interface ComposedKernelSpec {
  build(backendName: string): KernelConfig;
  /** Kernels of the backend the composition calls. */
  needs: string[];
  /** Runs in JS on the tensors' host memory: only for host-memory backends (wasm, cpu). */
  hostOnly?: boolean;
}

const COMPOSED: Record<ComposedKernelName, ComposedKernelSpec> = {
  Conv2DBackpropFilter: { build: conv2dBackpropFilterKernel, needs: ['Transpose', 'Slice', 'Conv2D'] },
  Conv2DBackpropInput: {
    build: conv2dBackpropInputKernel,
    needs: ['Transpose', 'Reshape', 'Slice', 'StridedSlice', 'Reverse', 'Concat', 'Fill', 'Conv2D'],
  },
  DepthwiseConv2dNativeBackpropFilter: {
    build: depthwiseBackpropFilterKernel,
    needs: ['PadV2', 'Slice', 'Multiply', 'Sum', 'Reshape', 'Concat'],
  },
  DepthwiseConv2dNativeBackpropInput: {
    build: depthwiseBackpropInputKernel,
    needs: ['Transpose', 'Reshape', 'Slice', 'StridedSlice', 'Reverse', 'Concat', 'Fill', 'Sum', 'DepthwiseConv2dNative'],
  },
  MaxPoolGrad: { build: maxPoolGradKernel, needs: [], hostOnly: true },
};

/** Every kernel name {@link registerMissingKernels} can provide. */
export const COMPOSED_KERNEL_NAMES = Object.keys(COMPOSED) as ComposedKernelName[];

/**
 * Kernels a backend has but implements much slower than the composition, replaced by default:
 * tfjs-backend-wasm's `Conv2DBackpropInput` is a scalar C++ loop (~1 GFLOP/s) while the composition runs on
 * the forward convolution; its `MaxPoolGrad` loops channels-outer (~10× the host kernel on resnet's stem).
 */
export const SLOW_KERNELS: Readonly<Record<string, readonly ComposedKernelName[]>> = {
  wasm: ['Conv2DBackpropInput', 'MaxPoolGrad'],
};

/** Options of {@link registerMissingKernels}. */
export interface RegisterKernelsOptions {
  /**
   * Kernels to replace even though the backend has them. Default: {@link SLOW_KERNELS} for this backend.
   * Pass `[]` to only fill gaps.
   */
  replace?: readonly ComposedKernelName[];
  /**
   * wasm only: run `Conv2D` and `Conv2DBackpropFilter` on fastts' SIMD micro-kernels (relaxed-SIMD fused
   * multiply-add where available) instead of XNNPACK whenever the backend runs one thread. Default true for
   * `wasm` when the engine has WebAssembly SIMD.
   */
  simd?: boolean;
}

/** What {@link registerMissingKernels} did. */
export interface RegisterKernelsReport {
  backend: string;
  /** Composed kernels registered because the backend had none. */
  added: ComposedKernelName[];
  /** Composed kernels registered in place of the backend's own. */
  replaced: ComposedKernelName[];
  /** Kernels that stay missing because a building block is missing too, with the block's name. */
  unavailable: Array<{ kernel: ComposedKernelName; missing: string }>;
  /** Kernels now running on fastts' SIMD micro-kernels (single-threaded wasm backends). */
  simd: string[];
  /** Whether those use relaxed-SIMD fused multiply-add (else multiply + add). */
  fma: boolean;
}

const registered = new Map<string, Set<string>>();
const originals = new Map<string, KernelConfig>();

/**
 * Registers the composed gradient kernels `backendName` lacks (e.g. wasm: `Conv2DBackpropFilter` and the
 * depthwise backprops), and replaces its known-slow ones. Idempotent; safe to call before or after the backend
 * is initialized (kernels are looked up by backend name).
 *
 * ```ts
 * await tf.setBackend('wasm');
 * registerMissingKernels('wasm'); // tf.grad of a conv2d now works on wasm
 * ```
 */
export function registerMissingKernels(backendName: string, options: RegisterKernelsOptions = {}): RegisterKernelsReport {
  if (typeof backendName !== 'string' || backendName === '') {
    throw new KernelCompositionError(
      `registerMissingKernels: expected a backend name such as 'wasm', got ${String(backendName)}`,
    );
  }
  const replace = new Set<ComposedKernelName>(options.replace ?? SLOW_KERNELS[backendName] ?? []);
  for (const name of replace) {
    if (!(name in COMPOSED)) {
      throw new KernelCompositionError(
        `registerMissingKernels: cannot replace '${String(name)}': composed kernels exist for ${COMPOSED_KERNEL_NAMES.join(', ')}`,
      );
    }
  }
  const mine = registered.get(backendName) ?? new Set<string>();
  registered.set(backendName, mine);
  const report: RegisterKernelsReport = { backend: backendName, added: [], replaced: [], unavailable: [], simd: [], fma: false };
  for (const name of COMPOSED_KERNEL_NAMES) {
    if (mine.has(name)) continue;
    const existing = getKernel(name, backendName);
    if (existing && !replace.has(name)) continue;
    const spec = COMPOSED[name];
    if (spec.hostOnly && !isHostBackend(backendName)) continue;
    const missing = spec.needs.find((n) => getKernel(n, backendName) === undefined);
    if (missing !== undefined) {
      if (!existing) report.unavailable.push({ kernel: name, missing });
      continue;
    }
    if (existing) {
      originals.set(`${backendName}/${name}`, existing);
      unregisterKernel(name, backendName);
      report.replaced.push(name);
    } else {
      report.added.push(name);
    }
    registerKernel(spec.build(backendName));
    mine.add(name);
  }
  if (backendName === 'wasm' && !mine.has('Identity')) {
    // tfjs-backend-wasm's Identity copies; every tensor saved for a gradient goes through it
    const own = getKernel('Identity', backendName);
    if (own) {
      originals.set(`${backendName}/Identity`, own);
      unregisterKernel('Identity', backendName);
      registerKernel(sharedIdentityKernel(backendName, own));
      mine.add('Identity');
    }
  }
  if ((options.simd ?? backendName === 'wasm') && simdSupported()) registerSimd(backendName, mine, report);
  return report;
}

/**
 * Puts Conv2D, FusedConv2D, the convolution gradients and per-channel sums on the SIMD engine (each keeps the one it
 * replaces as fallback).
 */
function registerSimd(backendName: string, mine: Set<string>, report: RegisterKernelsReport): void {
  report.fma = relaxedSimdSupported();
  for (const [name, build] of [
    ['Conv2D', simdConv2dKernel],
    ['FusedConv2D', simdFusedConv2dKernel],
    ['Conv2DBackpropFilter', simdConv2dBackpropFilterKernel],
    ['Conv2DBackpropInput', simdConv2dBackpropInputKernel],
    ['Sum', simdChannelSumKernel],
  ] as const) {
    const key = `simd:${name}`;
    if (mine.has(key)) {
      report.simd.push(name);
      continue;
    }
    const current = getKernel(name, backendName);
    if (!current) continue;
    if (!originals.has(`${backendName}/${name}`) && !mine.has(name)) originals.set(`${backendName}/${name}`, current);
    unregisterKernel(name, backendName);
    registerKernel(build(backendName, current));
    mine.add(key);
    report.simd.push(name);
  }
  // BatchNorm's statistics and backward pass, ReLU's gradient (new kernel names, used where registered)
  for (const build of [simdBatchNormStatsKernel, simdBatchNormApplyKernel, simdBatchNormGradKernel, simdReluGradKernel]) {
    const config = build(backendName);
    const key = `simd:${config.kernelName}`;
    if (!mine.has(key)) {
      registerKernel(config);
      mine.add(key);
    }
    report.simd.push(config.kernelName);
  }
}

/**
 * Removes the composed kernels registered for `backendName` and restores the backend's own where they were
 * replaced (tests use it to compare both).
 */
export function unregisterComposedKernels(backendName: string): void {
  const mine = registered.get(backendName);
  if (!mine) return;
  const names = new Set([...mine].map((n) => n.replace(/^simd:/, '')));
  for (const name of names) {
    if (getKernel(name, backendName)) unregisterKernel(name, backendName);
    const original = originals.get(`${backendName}/${name}`);
    if (original) {
      registerKernel(original);
      originals.delete(`${backendName}/${name}`);
    }
  }
  registered.delete(backendName);
  clearFilterCache();
}

/** The composed kernel configs themselves, e.g. to register under another backend name by hand. */
export function composedKernel(name: ComposedKernelName, backendName: string): KernelConfig {
  const spec = COMPOSED[name];
  if (!spec) {
    throw new KernelCompositionError(`no composed kernel '${String(name)}': known are ${COMPOSED_KERNEL_NAMES.join(', ')}`);
  }
  return spec.build(backendName);
}

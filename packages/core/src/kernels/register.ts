/**
 * Registers composed gradient kernels for a backend: those it lacks, and (on request, or by the per-backend
 * defaults) those whose own implementation is known to be much slower than the composition.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterKernel } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputKernel } from './conv2d-backprop-input.js';
import { depthwiseBackpropFilterKernel, depthwiseBackpropInputKernel } from './depthwise-backprop.js';
import { KernelCompositionError } from './errors.js';
import { clearFilterCache } from './filter-cache.js';

/** The kernel names fastts can compose. */
export type ComposedKernelName =
  | 'Conv2DBackpropFilter'
  | 'Conv2DBackpropInput'
  | 'DepthwiseConv2dNativeBackpropFilter'
  | 'DepthwiseConv2dNativeBackpropInput';

interface ComposedKernelSpec {
  build(backendName: string): KernelConfig;
  /** Kernels of the backend the composition calls. */
  needs: string[];
}

const COMPOSED: Record<ComposedKernelName, ComposedKernelSpec> = {
  Conv2DBackpropFilter: { build: conv2dBackpropFilterKernel, needs: ['Transpose', 'Slice', 'Conv2D'] },
  Conv2DBackpropInput: {
    build: conv2dBackpropInputKernel,
    needs: ['Transpose', 'Reshape', 'Slice', 'StridedSlice', 'Reverse', 'Concat', 'Fill', 'Conv2D'],
  },
  DepthwiseConv2dNativeBackpropFilter: {
    build: depthwiseBackpropFilterKernel,
    needs: ['PadV2', 'StridedSlice', 'Multiply', 'Sum', 'Reshape', 'Concat'],
  },
  DepthwiseConv2dNativeBackpropInput: {
    build: depthwiseBackpropInputKernel,
    needs: ['Transpose', 'Reshape', 'Slice', 'StridedSlice', 'Reverse', 'Concat', 'Fill', 'Sum', 'DepthwiseConv2dNative'],
  },
};

/** Every kernel name {@link registerMissingKernels} can provide. */
export const COMPOSED_KERNEL_NAMES = Object.keys(COMPOSED) as ComposedKernelName[];

/**
 * Kernels a backend has but implements much slower than the composition, replaced by default:
 * tfjs-backend-wasm's `Conv2DBackpropInput` is a scalar C++ loop (~1 GFLOP/s) while the composition runs on
 * XNNPACK's convolution.
 */
export const SLOW_KERNELS: Readonly<Record<string, readonly ComposedKernelName[]>> = {
  wasm: ['Conv2DBackpropInput'],
};

/** Options of {@link registerMissingKernels}. */
export interface RegisterKernelsOptions {
  /**
   * Kernels to replace even though the backend has them. Default: {@link SLOW_KERNELS} for this backend.
   * Pass `[]` to only fill gaps.
   */
  replace?: readonly ComposedKernelName[];
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
}

const registered = new Map<string, Set<ComposedKernelName>>();
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
    throw new KernelCompositionError(`registerMissingKernels: expected a backend name such as 'wasm', got ${String(backendName)}`);
  }
  const replace = new Set<ComposedKernelName>(options.replace ?? SLOW_KERNELS[backendName] ?? []);
  for (const name of replace) {
    if (!(name in COMPOSED)) {
      throw new KernelCompositionError(
        `registerMissingKernels: cannot replace '${String(name)}': composed kernels exist for ${COMPOSED_KERNEL_NAMES.join(', ')}`,
      );
    }
  }
  const mine = registered.get(backendName) ?? new Set<ComposedKernelName>();
  registered.set(backendName, mine);
  const report: RegisterKernelsReport = { backend: backendName, added: [], replaced: [], unavailable: [] };
  for (const name of COMPOSED_KERNEL_NAMES) {
    if (mine.has(name)) continue;
    const existing = getKernel(name, backendName);
    if (existing && !replace.has(name)) continue;
    const spec = COMPOSED[name];
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
  return report;
}

/**
 * Removes the composed kernels registered for `backendName` and restores the backend's own where they were
 * replaced (tests use it to compare both).
 */
export function unregisterComposedKernels(backendName: string): void {
  const mine = registered.get(backendName);
  if (!mine) return;
  for (const name of mine) {
    unregisterKernel(name, backendName);
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

import { tryCuda } from './cuda.js';
import { tryDawnWebgpu } from './dawn.js';
import type { GpuBackendName } from './errors.js';
import type { GpuBackendResult } from './result.js';

/** One GPU path, as `setupBackend` tries it. */
export interface GpuCandidate {
  /** The `--backend` value. */
  name: GpuBackendName;
  /**
   * Tries the path; on success its tfjs backend is active. `auto: true` when `--backend auto` asks (then WebGPU
   * refuses software fallback adapters); `auto: false` when the user named this backend.
   */
  tryIt(options: { auto: boolean }): Promise<GpuBackendResult>;
}

/**
 * The GPU paths in the order `auto` tries them, before the CPU path: CUDA (tfjs-node-gpu), then WebGPU through
 * Dawn on a hardware adapter.
 */
export function gpuCandidates(): GpuCandidate[] {
  return [
    { name: 'cuda', tryIt: ({ auto }) => tryCuda({ skipWithoutGpu: auto }) },
    { name: 'webgpu', tryIt: ({ auto }) => tryDawnWebgpu({ requireHardware: auto }) },
  ];
}

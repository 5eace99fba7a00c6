import type { WebGpuAdapterSummary } from '@fastts/core/kernels/webgpu';
import type { GpuBackendName, GpuBackendUnavailableError } from './errors.js';

/**
 * The outcome of trying one GPU path ({@link tryCuda}, {@link tryDawnWebgpu}).
 * On success the tfjs backend is registered **and active** (`tf.getBackend() === tfBackend`); on failure nothing
 * of it is left registered, so the caller can go on to the next candidate (the CPU path).
 */
export type GpuBackendResult = GpuBackendSuccess | GpuBackendFailure;

/** A GPU path that works and is now the active tfjs backend. */
export interface GpuBackendSuccess {
  ok: true;
  /** The fastts backend name (`--backend` value). */
  backend: GpuBackendName;
  /** The tfjs backend name now active: `tensorflow` for CUDA, `webgpu` for Dawn. */
  tfBackend: string;
  /** What runs the tensors, for the "using ..." line, e.g. `CUDA on NVIDIA H100 80GB HBM3 (tfjs-node-gpu 4.22.0)`. */
  description: string;
  /** WebGPU only: the adapter Dawn chose. */
  adapter?: WebGpuAdapterSummary;
}

/** A GPU path that cannot run here; `error` says what is missing and how to fix it. */
export interface GpuBackendFailure {
  ok: false;
  backend: GpuBackendName;
  tfBackend: string;
  /** Throw this when the user asked for the backend explicitly. */
  error: GpuBackendUnavailableError;
  /** WebGPU only: the adapter that was found but rejected (a fallback adapter under `requireHardware`). */
  adapter?: WebGpuAdapterSummary;
}

export type { WebGpuAdapterSummary };

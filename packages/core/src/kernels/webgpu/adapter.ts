/**
 * One reading of a WebGPU adapter's identity for both platforms (Dawn in Node, `navigator.gpu` in browsers), typed
 * structurally so core needs no WebGPU type definitions.
 */

/** The parts of a WebGPU adapter's `info` that identify it. */
export interface WebGpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for software adapters (SwiftShader): correct but slow, never chosen automatically. */
  isFallbackAdapter: boolean;
}

/** The parts of a `GPUAdapter` read by {@link summarizeAdapter}. */
export interface WebGpuAdapterLike {
  info?: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> & {
    isFallbackAdapter?: boolean;
  };
  /** Older spelling (before `info.isFallbackAdapter`). */
  isFallbackAdapter?: boolean;
}

/** Reads an adapter's identity; `isFallbackAdapter` from `info` (current spec) or the adapter (older spec). */
export function summarizeAdapter(adapter: WebGpuAdapterLike): WebGpuAdapterSummary {
  const info = adapter.info ?? {};
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false,
  };
}

/** A one-line name for an adapter, e.g. `nvidia ampere (NVIDIA H100 80GB HBM3)`. */
export function describeAdapter(a: WebGpuAdapterSummary): string {
  const name = [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const detail = a.description || a.device;
  return `${name}${detail ? ` (${detail})` : ''}${a.isFallbackAdapter ? ', software fallback adapter' : ''}`;
}

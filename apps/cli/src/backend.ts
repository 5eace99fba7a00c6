/** Choosing where tensors run (`--backend`, `--threads`), through `setupBackend` of `@fastts/node-gpu`. */
import { setupBackend, type BackendReport } from '@fastts/node-gpu';
import type { BackendOptions } from './options.js';
import type { Reporter } from './output.js';

/** What the CLI reports about the backend in use. */
export interface BackendInfo {
  /** The fastts backend name (`wasm`, `cuda`, `webgpu`, `cpu`). */
  name: string;
  /** Compute threads of the backend. */
  threads: number;
  /** One line for the log, e.g. `wasm (XNNPACK + SIMD, 2 threads)`. */
  description: string;
  /** The full report of `setupBackend`. */
  report: BackendReport;
}

/**
 * Sets up the backend asked for (`auto` tries CUDA, WebGPU, then wasm) and says which one runs. A named backend
 * that cannot run here (e.g. `--backend cuda` without a usable CUDA stack) fails with the library's error, which
 * says which piece is missing.
 */
export async function setupCliBackend(options: Partial<BackendOptions>, reporter: Reporter): Promise<BackendInfo> {
  const report = await setupBackend({
    backend: options.backend ?? 'auto',
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    log: null,
  });
  for (const s of report.skipped) reporter.debug(`backend ${s.backend} skipped: ${s.reason}`);
  return { name: report.backend, threads: report.threads, description: report.description, report };
}

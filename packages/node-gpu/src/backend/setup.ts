/**
 * Backend choice on Node: an ordered list of candidates, GPU paths first, then the fast CPU path (tfjs wasm:
 * XNNPACK + SIMD, multi-threaded). The pure-JS `cpu` backend is never chosen unless asked for by name.
 */
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { registerMissingKernels, type RegisterKernelsReport } from '@fastts/core/kernels';
import { BackendSetupError } from './errors.js';
import { gpuCandidates } from './gpu/candidates.js';
import { enableNativeConvolutions } from '../onnx/native-convolutions.js';
import { enableRelaxedSimd, MAX_WASM_THREADS, registerWasmBackend, wasmThreads } from './wasm.js';

/** Backends `setupBackend` knows: `auto` tries the candidates in order. */
export type NodeBackendName = 'auto' | 'cuda' | 'webgpu' | 'wasm' | 'cpu';

/** Options of {@link setupBackend}. */
export interface SetupBackendOptions {
  /** `auto` (default, or env `FASTTS_BACKEND`): the first candidate that works. A name: only that one. */
  backend?: NodeBackendName | string;
  /**
   * Compute threads of the wasm backend in this process (XNNPACK pool). Default: env `FASTTS_THREADS`, else the
   * number of CPU cores (at most 8).
   */
  threads?: number;
  /** Where the one-line summary goes (default: stderr). `null` keeps quiet. */
  log?: ((line: string) => void) | null;
}

/** What {@link setupBackend} chose. */
export interface BackendReport {
  /** The fastts backend name now active. */
  backend: Exclude<NodeBackendName, 'auto'>;
  /** The tfjs backend name (`tf.getBackend()`): `tensorflow` for CUDA. */
  tfBackend: string;
  /** Compute threads of this process' backend (XNNPACK threads for wasm; 1 for the pure-JS cpu backend). */
  threads: number;
  /** CPU cores of the machine. */
  cores: number;
  /** One line, e.g. `wasm (XNNPACK + SIMD, 2 threads)`. */
  description: string;
  /** Candidates tried before the active one, with why each was skipped. */
  skipped: Array<{ backend: string; reason: string }>;
  /** Composed gradient kernels registered for the active backend. */
  kernels: RegisterKernelsReport;
  /**
   * The native provider of the wasm engine's 1×1 and strided convolutions (`onnxruntime` when onnxruntime-node is
   * installed and env `FASTTS_NATIVE_CONV` is not `0`), else null.
   */
  nativeConvolutions: string | null;
}

/** One way to run tensors, as `auto` tries it. */
export interface BackendCandidate {
  name: Exclude<NodeBackendName, 'auto'>;
  /** Activates the backend or returns why it cannot run here (`auto` is true when not explicitly asked for). */
  tryIt(options: {
    auto: boolean;
    threads: number;
  }): Promise<
    { ok: true; tfBackend: string; description: string; threads: number } | { ok: false; reason: string; error: Error }
  >;
}

/** The fast CPU path: tfjs wasm (XNNPACK + SIMD), multi-threaded in Node through the threaded build. */
export const wasmCandidate: BackendCandidate = {
  name: 'wasm',
  async tryIt({ threads }) {
    try {
      registerWasmBackend(threads);
      if (!(await tf.setBackend('wasm'))) throw new BackendSetupError('tf.setBackend("wasm") returned false');
      await tf.ready();
      const actual = wasmThreads();
      return {
        ok: true,
        tfBackend: 'wasm',
        threads: actual,
        description: `wasm (XNNPACK + SIMD, ${actual} thread${actual === 1 ? '' : 's'})`,
      };
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      return { ok: false, reason: error.message, error };
    }
  },
};

/** tfjs' pure-JS backend: correct everywhere, far too slow to train (only when asked for by name). */
export const cpuCandidate: BackendCandidate = {
  name: 'cpu',
  async tryIt() {
    await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) {
      const error = new BackendSetupError('the tfjs cpu backend did not start');
      return { ok: false, reason: error.message, error };
    }
    return { ok: true, tfBackend: 'cpu', threads: 1, description: 'cpu (pure JavaScript, 1 thread; slow)' };
  },
};

/**
 * The candidates `auto` tries, in order: the GPU paths (CUDA through tfjs-node-gpu, WebGPU through Dawn on a
 * hardware adapter), then the fast CPU path. Extend by adding entries here (the pure-JS cpu backend is left out
 * on purpose: it is only used when asked for by name).
 */
export function backendCandidates(): BackendCandidate[] {
  const gpus: BackendCandidate[] = gpuCandidates().map((g) => ({
    name: g.name,
    async tryIt({ auto }) {
      const r = await g.tryIt({ auto });
      if (r.ok) return { ok: true, tfBackend: r.tfBackend, description: r.description, threads: 1 };
      return { ok: false, reason: r.error.message, error: r.error };
    },
  }));
  return [...gpus, wasmCandidate];
}

/** Default XNNPACK threads: env FASTTS_THREADS, else the CPU cores (at most 8). */
export function defaultThreads(): number {
  const env = process.env['FASTTS_THREADS'];
  if (env !== undefined && env !== '') return parseThreads(env, 'FASTTS_THREADS');
  return Math.max(1, Math.min(MAX_WASM_THREADS, cpus().length));
}

function parseThreads(value: unknown, what: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_WASM_THREADS) {
    throw new BackendSetupError(`${what} must be an integer from 1 to ${MAX_WASM_THREADS}, got ${String(value)}`);
  }
  return n;
}

const KNOWN: NodeBackendName[] = ['auto', 'cuda', 'webgpu', 'wasm', 'cpu'];

let active: BackendReport | undefined;

/** What the last successful {@link setupBackend} chose (undefined before the first). */
export function activeBackend(): BackendReport | undefined {
  return active;
}

/**
 * Activates the fastest backend that works here and registers the composed gradient kernels it lacks.
 * `auto` tries CUDA, then WebGPU on a hardware adapter, then wasm with every core; the pure-JS `cpu` backend only
 * runs when named. Logs one line saying which backend and how many threads.
 *
 * ```ts
 * const report = await setupBackend();            // e.g. "fastts: backend wasm (XNNPACK + SIMD, 2 threads)"
 * await setupBackend({ backend: 'wasm', threads: 1 });
 * ```
 * @throws BackendSetupError for an unknown name, a bad thread count, or a named backend that cannot run
 */
export async function setupBackend(options: SetupBackendOptions = {}): Promise<BackendReport> {
  const wanted = (options.backend ?? process.env['FASTTS_BACKEND'] ?? 'auto') || 'auto';
  if (!KNOWN.includes(wanted as NodeBackendName)) {
    throw new BackendSetupError(`unknown backend '${wanted}': use one of ${KNOWN.join(', ')}`);
  }
  const threads = options.threads === undefined ? defaultThreads() : parseThreads(options.threads, 'threads');
  const log = options.log === undefined ? (line: string) => console.error(line) : options.log;
  const all = [...backendCandidates(), cpuCandidate];
  const candidates = wanted === 'auto' ? backendCandidates() : all.filter((c) => c.name === wanted);
  const skipped: BackendReport['skipped'] = [];
  for (const c of candidates) {
    const r = await c.tryIt({ auto: wanted === 'auto', threads });
    if (!r.ok) {
      if (wanted !== 'auto') throw r.error;
      skipped.push({ backend: c.name, reason: r.reason });
      continue;
    }
    if (r.tfBackend === 'wasm') enableRelaxedSimd();
    const kernels = registerMissingKernels(r.tfBackend);
    const native = r.tfBackend === 'wasm' && kernels.simd.includes('Conv2D') ? await enableNativeConvolutions(r.threads) : null;
    const report: BackendReport = {
      backend: c.name,
      tfBackend: r.tfBackend,
      threads: r.threads,
      cores: cpus().length,
      description: native ? `${r.description}, native convolutions (${native.name})` : r.description,
      skipped,
      kernels,
      nativeConvolutions: native?.name ?? null,
    };
    active = report;
    log?.(
      `fastts: backend ${report.description} on ${report.cores} CPU core${report.cores === 1 ? '' : 's'}` +
        (skipped.length > 0 ? ` (skipped: ${skipped.map((s) => s.backend).join(', ')})` : ''),
    );
    return report;
  }
  throw new BackendSetupError(
    `no backend could run: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}. ` +
      `Ask for the pure-JS one explicitly with setupBackend({ backend: 'cpu' }) (slow).`,
  );
}

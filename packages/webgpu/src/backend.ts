/**
 * Backend choice in the browser: WebGPU (tfjs-backend-webgpu), then WebAssembly (tfjs-backend-wasm, XNNPACK), then
 * WebGL. The pure-JS cpu backend is used only when asked for by name.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths as tfSetWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerMissingKernels } from '@fastts/core/kernels';
import {
  describeAdapter,
  patchWebgpuKernels,
  summarizeAdapter,
  type WebGpuAdapterLike,
  type WebGpuAdapterSummary,
} from '@fastts/core/kernels/webgpu';
import { BackendUnavailableError } from './errors.js';

/** Backends the browser platform can run on. */
export type WebBackendName = 'webgpu' | 'wasm' | 'webgl' | 'cpu';

/** The `.wasm` files tfjs-backend-wasm may fetch (which one depends on SIMD and cross-origin isolation). */
export type WasmBinaryName = 'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';

/**
 * Where the wasm backend finds its `.wasm` files: a URL prefix ending in `/` (the three files of
 * `@tensorflow/tfjs-backend-wasm/dist/` served there), or one URL per file. Bundlers do not copy these files, so a
 * web app must serve them and say where.
 */
export type WasmPaths = string | Partial<Record<WasmBinaryName, string>>;

/** Options of {@link setupBackend}. */
export interface SetupBackendOptions {
  /** `auto` (default): WebGPU on a hardware adapter, else wasm, else WebGL. A name: only that backend. */
  backend?: 'auto' | WebBackendName;
  /** Where the `.wasm` files are served (see {@link WasmPaths}); needed unless they sit beside the page's script. */
  wasmPaths?: WasmPaths;
  /**
   * Accept a software (fallback) WebGPU adapter such as SwiftShader under `auto`. Default false: software WebGPU is
   * far slower than wasm. An explicit `backend: 'webgpu'` always accepts it.
   */
  allowFallbackAdapter?: boolean;
}

/** The WebGPU adapter in use, from `GPUAdapter.info` (core's shared summary). */
export type WebGpuAdapterInfo = WebGpuAdapterSummary;

/** What {@link setupBackend} chose. */
export interface BackendReport {
  /** The active backend (`tf.getBackend()`). */
  backend: WebBackendName;
  /** One line for the UI, e.g. `WebGPU on nvidia ampere` or `wasm (SIMD, 1 thread) — WebGPU: no adapter`. */
  description: string;
  /** WebGPU only: the adapter. */
  adapter?: WebGpuAdapterInfo;
  /** Backends tried before the active one, with why each was skipped. */
  skipped: { backend: WebBackendName; reason: string }[];
  /** Gradient kernels core composed for this backend (e.g. wasm's `Conv2DBackpropFilter`), added or replaced. */
  composedKernels: string[];
}

const AUTO_ORDER: WebBackendName[] = ['webgpu', 'wasm', 'webgl'];

/**
 * Tells tfjs-backend-wasm where its `.wasm` files are served. Call before the wasm backend starts
 * ({@link setupBackend} calls it for you with its `wasmPaths` option).
 */
export function setWasmPaths(paths: WasmPaths): void {
  tfSetWasmPaths(paths as Parameters<typeof tfSetWasmPaths>[0]);
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<WebGpuAdapterLike | null>;
}

function navigatorGpu(): GpuLike | undefined {
  return (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
}

/** Asks the browser for its WebGPU adapter without starting a backend; null when WebGPU has none. */
export async function webgpuAdapterInfo(): Promise<WebGpuAdapterInfo | null> {
  const gpu = navigatorGpu();
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  return summarizeAdapter(adapter);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Loads a backend's module (registering it) and says why it cannot start, or null when it is registered. */
async function register(name: WebBackendName, adapter?: WebGpuAdapterInfo): Promise<void> {
  switch (name) {
    case 'webgpu':
      await import('@tensorflow/tfjs-backend-webgpu');
      patchWebgpuKernels({ softwareAdapter: adapter?.isFallbackAdapter ?? false });
      return;
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      return;
    case 'webgl':
      await import('@tensorflow/tfjs-backend-webgl');
      return;
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      return;
  }
}

async function tryOne(
  name: WebBackendName,
  auto: boolean,
  allowFallbackAdapter: boolean,
): Promise<{ ok: true; adapter?: WebGpuAdapterInfo; detail: string } | { ok: false; reason: string }> {
  let adapter: WebGpuAdapterInfo | undefined;
  if (name === 'webgpu') {
    if (!navigatorGpu()) return { ok: false, reason: 'this browser has no WebGPU (navigator.gpu is missing)' };
    const info = await webgpuAdapterInfo().catch(() => null);
    if (!info) return { ok: false, reason: 'WebGPU found no adapter' };
    if (auto && info.isFallbackAdapter && !allowFallbackAdapter) {
      return { ok: false, reason: `only a software fallback adapter (${describeAdapter(info)})` };
    }
    adapter = info;
  }
  try {
    await register(name, adapter);
    if (tf.findBackendFactory(name) === null) return { ok: false, reason: `the ${name} backend did not register` };
    const ok = await tf.setBackend(name);
    if (!ok) return { ok: false, reason: `the ${name} backend failed to initialize (see the console)` };
  } catch (e) {
    return { ok: false, reason: messageOf(e) };
  }
  let detail = name === 'webgpu' && adapter ? `WebGPU on ${describeAdapter(adapter)}` : name;
  if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    detail = `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${wasm.getThreadsCount()} thread${wasm.getThreadsCount() === 1 ? '' : 's'})`;
  } else if (name === 'webgl') {
    detail = `WebGL ${tf.env().getNumber('WEBGL_VERSION')}`;
  }
  return adapter ? { ok: true, adapter, detail } : { ok: true, detail };
}

/**
 * Chooses and starts the backend: `auto` tries WebGPU (a hardware adapter), then wasm, then WebGL, and reports
 * which one is active and why the others were skipped. A named backend is used alone and a failure throws
 * {@link BackendUnavailableError}.
 */
export async function setupBackend(options: SetupBackendOptions = {}): Promise<BackendReport> {
  const { backend = 'auto', wasmPaths, allowFallbackAdapter = false } = options;
  if (wasmPaths !== undefined) setWasmPaths(wasmPaths);
  const order = backend === 'auto' ? AUTO_ORDER : [backend];
  const skipped: BackendReport['skipped'] = [];
  for (const name of order) {
    const r = await tryOne(name, backend === 'auto', allowFallbackAdapter);
    if (r.ok) {
      // Training needs gradients some backends lack (wasm: Conv2DBackpropFilter, depthwise backprops).
      const kernels = registerMissingKernels(name);
      const why = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
      const report: BackendReport = {
        backend: name,
        description: why ? `${r.detail} (${why})` : r.detail,
        skipped,
        composedKernels: [...kernels.added, ...kernels.replaced],
      };
      if (r.adapter) report.adapter = r.adapter;
      return report;
    }
    skipped.push({ backend: name, reason: r.reason });
  }
  const list = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  const hint = order.includes('wasm')
    ? ' If wasm failed to fetch its .wasm file, serve @tensorflow/tfjs-backend-wasm/dist/*.wasm and pass wasmPaths.'
    : '';
  throw new BackendUnavailableError(`no usable backend (${list}).${hint}`, skipped);
}

/**
 * The server WebGPU path: `@tensorflow/tfjs-backend-webgpu` on Dawn through the `webgpu` npm package (an optional
 * dependency, loaded lazily). Needs only a Vulkan driver (`libvulkan.so.1` + an ICD), not a CUDA toolchain.
 * tfjs-backend-webgpu registers itself only when `navigator.gpu` exists at import time, so this module installs
 * Dawn's `GPU` object and the WebGPU globals (`GPUBufferUsage`, ...) on `globalThis` first.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeAdapter, patchWebgpuKernels, summarizeAdapter, type WebGpuAdapterLike } from '@fastts/core/kernels/webgpu';
import { hasGpuDeviceNode } from './cudaProbe.js';
import { WebGpuUnavailableError } from './errors.js';
import type { GpuBackendResult } from './result.js';

/** The npm package of Dawn's Node bindings. */
export const DAWN_MODULE = 'webgpu';
/** The tfjs backend name. */
export const WEBGPU_TF_BACKEND = 'webgpu';
/** Chromium's SwiftShader Vulkan ICD on Debian: a software adapter for tests (`VK_ICD_FILENAMES=...`). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** The parts of a WebGPU adapter read here (core's structural adapter type). */
export type DawnAdapterLike = WebGpuAdapterLike;

/** The parts of Dawn's `GPU` object used here. */
export interface DawnGpuLike {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<DawnAdapterLike | null>;
}

/** What the `webgpu` package exports. */
export interface DawnModule {
  /** Creates a `GPU` (navigator.gpu) with Dawn toggles such as `enable-dawn-features=...`. */
  create(flags: string[]): DawnGpuLike;
  /** The WebGPU interface objects and constants (`GPUBufferUsage`, `GPUMapMode`, ...). */
  globals: object;
}

/** Options of {@link tryDawnWebgpu}. */
export interface TryDawnWebgpuOptions {
  /**
   * Refuse software (fallback) adapters such as SwiftShader: `auto` sets this, an explicit `--backend webgpu`
   * does not (SwiftShader is correct, just slow).
   */
  requireHardware?: boolean;
  /** Dawn toggles passed to `create()`. Default none. */
  dawnFlags?: string[];
  /** Loads the `webgpu` package. Default: `import('webgpu')` (tests inject fakes). */
  loader?: () => Promise<DawnModule>;
  /**
   * With `requireHardware`: whether the machine shows a GPU device node at all (Linux: `/dev/nvidia*`,
   * `/dev/dri/renderD*`). When it does not, Dawn is not loaded (no Vulkan ICD console noise). Default:
   * {@link hasGpuDeviceNode}.
   */
  hasGpuDevice?: () => boolean;
}

function defaultLoader(): Promise<DawnModule> {
  const name: string = DAWN_MODULE;
  return import(name) as Promise<DawnModule>;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export { describeAdapter, summarizeAdapter };

/**
 * Makes `gpu` the `navigator.gpu` of this process and copies Dawn's WebGPU globals onto `globalThis` (without
 * replacing any that exist). Node 20 has no `navigator`; Node 21+ has one without `gpu`.
 */
export function installWebGpuGlobals(dawn: DawnModule, gpu: DawnGpuLike): void {
  const g = globalThis as Record<string, unknown>;
  for (const [key, value] of Object.entries(Object.getOwnPropertyDescriptors(dawn.globals))) {
    if (!(key in g)) Object.defineProperty(g, key, { ...value, configurable: true });
  }
  const nav = g.navigator as Record<string, unknown> | undefined;
  if (nav === undefined) {
    Object.defineProperty(g, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
  }
}

/**
 * Tries WebGPU through Dawn: loads the `webgpu` package, asks it for an adapter, and (unless the adapter is a
 * software fallback and `requireHardware` is set) registers tfjs-backend-webgpu on it and makes it active.
 * On failure nothing is registered and `error` names the missing piece (package, dawn.node, Vulkan adapter,
 * hardware adapter, device).
 */
export async function tryDawnWebgpu(options: TryDawnWebgpuOptions = {}): Promise<GpuBackendResult> {
  const { requireHardware = false, dawnFlags = [], loader = defaultLoader, hasGpuDevice = hasGpuDeviceNode } = options;
  const base = { backend: 'webgpu', tfBackend: WEBGPU_TF_BACKEND } as const;
  if (requireHardware && !hasGpuDevice()) {
    return {
      ...base,
      ok: false,
      error: new WebGpuUnavailableError(
        'adapter',
        'this machine shows no GPU device (/dev/dri/renderD*, /dev/nvidia*), so there is no hardware WebGPU adapter ' +
          `(a software one is available with --backend webgpu and VK_ICD_FILENAMES=${SWIFTSHADER_ICD}).`,
      ),
    };
  }

  let dawn: DawnModule;
  try {
    dawn = await loader();
  } catch (e) {
    const code = (e as { code?: string } | null)?.code;
    const notInstalled =
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && messageOf(e).includes(`'${DAWN_MODULE}'`);
    const error = notInstalled
      ? new WebGpuUnavailableError(
          'module',
          `the \`${DAWN_MODULE}\` package (Dawn WebGPU for Node) is not installed: it is an optional dependency of ` +
            `@fastts/node-gpu; install it with \`npm i ${DAWN_MODULE}\` (no install script needed on Linux).`,
          { cause: e },
        )
      : new WebGpuUnavailableError(
          'dawn-binary',
          `the \`${DAWN_MODULE}\` package is installed but its dawn.node failed to load: ` +
            `${messageOf(e).split('\n')[0]}. It ships binaries for linux-x64/arm64, darwin and win32 only.`,
          { cause: e },
        );
    return { ...base, ok: false, error };
  }

  let gpu: DawnGpuLike;
  let adapter: DawnAdapterLike | null;
  try {
    gpu = dawn.create(dawnFlags);
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return {
      ...base,
      ok: false,
      error: new WebGpuUnavailableError('adapter', `Dawn failed to look for a WebGPU adapter: ${messageOf(e)}`, {
        cause: e,
      }),
    };
  }
  if (adapter === null) {
    return {
      ...base,
      ok: false,
      error: new WebGpuUnavailableError(
        'adapter',
        `Dawn found no WebGPU adapter: it needs a Vulkan loader (libvulkan.so.1, Debian package libvulkan1) and a ` +
          `Vulkan driver for your GPU (an ICD JSON in /usr/share/vulkan/icd.d, or named by VK_DRIVER_FILES / ` +
          `VK_ICD_FILENAMES). For a slow software adapter: VK_ICD_FILENAMES=${SWIFTSHADER_ICD}.`,
      ),
    };
  }
  const summary = summarizeAdapter(adapter);
  if (requireHardware && summary.isFallbackAdapter) {
    return {
      ...base,
      ok: false,
      adapter: summary,
      error: new WebGpuUnavailableError(
        'fallback-adapter',
        `Dawn's only WebGPU adapter is a software fallback (${describeAdapter(summary)}): correct but far slower ` +
          `than the CPU path, so it is not chosen automatically. Ask for it with --backend webgpu.`,
      ),
    };
  }

  try {
    installWebGpuGlobals(dawn, gpu);
    const webgpu = (await import('@tensorflow/tfjs-backend-webgpu')) as typeof import('@tensorflow/tfjs-backend-webgpu');
    if (tf.findBackendFactory(WEBGPU_TF_BACKEND) === null) {
      // The backend module was imported before navigator.gpu existed, so it skipped its registration.
      registerWebgpuFactory(gpu, webgpu.WebGPUBackend);
    }
    patchWebgpuKernels({ softwareAdapter: summary.isFallbackAdapter });
    const ok = await tf.setBackend(WEBGPU_TF_BACKEND);
    if (!ok) throw new Error('tf.setBackend("webgpu") failed to initialize the backend');
  } catch (e) {
    if (tf.findBackendFactory(WEBGPU_TF_BACKEND) !== null) tf.removeBackend(WEBGPU_TF_BACKEND);
    return {
      ...base,
      ok: false,
      adapter: summary,
      error: new WebGpuUnavailableError(
        'device',
        `the WebGPU adapter ${describeAdapter(summary)} was found but the tfjs webgpu backend could not start on ` +
          `it: ${messageOf(e)}`,
        { cause: e },
      ),
    };
  }
  return { ...base, ok: true, adapter: summary, description: `WebGPU (Dawn/Vulkan) on ${describeAdapter(summary)}` };
}

type WebGPUBackendClass = typeof import('@tensorflow/tfjs-backend-webgpu').WebGPUBackend;

/** The same factory tfjs-backend-webgpu registers itself, bound to Dawn's `GPU`. */
function registerWebgpuFactory(gpu: DawnGpuLike, Backend: WebGPUBackendClass): void {
  tf.registerBackend(
    WEBGPU_TF_BACKEND,
    async () => {
      const adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' })) as unknown as GPUAdapter;
      const limits = adapter.limits;
      const requiredFeatures: GPUFeatureName[] = [];
      if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
      const device = await adapter.requestDevice({
        requiredFeatures,
        requiredLimits: {
          maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxBufferSize: limits.maxBufferSize,
          maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        },
      });
      const info = (adapter as unknown as { info?: unknown }).info;
      return new Backend(device, info as ConstructorParameters<WebGPUBackendClass>[1]);
    },
    3,
  );
}

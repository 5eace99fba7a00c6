/**
 * ONNX Runtime on Node: `onnxruntime-node`, an optional dependency loaded with a dynamic import only when asked
 * for. Its npm package ships the CPU execution provider for Linux, macOS and Windows; its install script only
 * downloads the CUDA 12 execution provider (from NuGet, Linux x64). fastts denies that script by default
 * (`allowScripts` in the root package.json), so the CPU provider is what a plain `npm ci` gives; CUDA is used when
 * its provider library is present (the script was allowed and ran) and falls back to the CPU otherwise.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The npm package. */
export const ORT_MODULE = 'onnxruntime-node';

/** How to install it, for error messages. */
export const ORT_INSTALL_HINT =
  `install ${ORT_MODULE} (\`npm install ${ORT_MODULE}\`; its CPU binaries need no install script — keep ` +
  `\`"allowScripts": { "${ORT_MODULE}": false }\` in package.json unless you want its CUDA provider downloaded)`;

/** An ONNX Runtime tensor, as fastts reads it. */
export interface OrtTensorLike {
  readonly data: unknown;
  readonly dims: readonly number[];
}

/** Session options fastts passes (a subset of onnxruntime-common's `InferenceSession.SessionOptions`). */
export interface OrtSessionOptions {
  executionProviders?: string[];
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'layout' | 'all';
}

/** An ONNX Runtime inference session, as fastts uses it. */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** The parts of the `onnxruntime-node` module fastts uses. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array | string, options?: OrtSessionOptions): Promise<OrtSessionLike> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensorLike;
  env: { versions?: { node?: string; common?: string } };
}

/** `onnxruntime-node` could not be loaded; the message says why and how to install it. */
export class OnnxRuntimeUnavailableError extends Error {
  override readonly name = 'OnnxRuntimeUnavailableError';
}

let loaded: Promise<OrtModule> | undefined;

async function importRuntime(specifier: string): Promise<OrtModule> {
  try {
    const mod = (await import(specifier)) as OrtModule & { default?: OrtModule };
    return mod.InferenceSession ? mod : mod.default!;
  } catch (e) {
    const code = (e as { code?: string }).code;
    const first = ((e as Error).message ?? String(e)).split('\n')[0];
    throw new OnnxRuntimeUnavailableError(
      code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
        ? `${specifier} is not installed: ${ORT_INSTALL_HINT}`
        : `${specifier} is installed but failed to load (${first}): reinstall it (${ORT_INSTALL_HINT})`,
    );
  }
}

/**
 * Loads `onnxruntime-node` (once). Rejects with an {@link OnnxRuntimeUnavailableError} when it is not installed or
 * its native binding does not load.
 * @param specifier the module to load instead (tests)
 */
export function loadOnnxRuntime(specifier: string = ORT_MODULE): Promise<OrtModule> {
  if (specifier !== ORT_MODULE) return importRuntime(specifier);
  loaded ??= importRuntime(specifier);
  loaded.catch(() => (loaded = undefined));
  return loaded;
}

/** Whether `onnxruntime-node` loads here. */
export async function onnxRuntimeAvailable(): Promise<boolean> {
  try {
    await loadOnnxRuntime();
    return true;
  } catch {
    return false;
  }
}

/** The installed `onnxruntime-node` version, or undefined. */
export async function onnxRuntimeVersion(): Promise<string | undefined> {
  try {
    return (await loadOnnxRuntime()).env.versions?.node;
  } catch {
    return undefined;
  }
}

/**
 * Whether ONNX Runtime's CUDA execution provider library is installed next to its binding (its install script
 * downloaded it). Having it does not prove a usable GPU: session creation still falls back to the CPU.
 */
export function hasCudaProvider(): boolean {
  try {
    const main = createRequire(import.meta.url).resolve(ORT_MODULE);
    const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    return existsSync(join(dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch, lib));
  } catch {
    return false;
  }
}

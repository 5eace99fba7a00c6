/**
 * The tfjs wasm backend in Node, single-threaded or multi-threaded.
 *
 * tfjs-backend-wasm ships a threaded SIMD build (XNNPACK on an emscripten pthread pool) but never uses it in Node
 * (its `WASM_HAS_MULTITHREAD_SUPPORT` flag is hard-wired to false there, tfjs issue #3830), and its pthread worker
 * would be handed to Node as a `blob:` URL, which `worker_threads` cannot load. Node 20 has everything the build
 * needs (SharedArrayBuffer, Atomics, worker_threads), so this module starts that build itself: the pthread worker
 * script is written to a file, the main script is given by path, and — because the build caps XNNPACK's pool at
 * `logical cores / 2` (it assumes two hyperthreads per core) — the core count it sees is the requested thread
 * count × 2. Everything else (kernels, BackendWasm) is tfjs-backend-wasm's own.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setFlagsFromString } from 'node:v8';
import { BackendWasm, getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { relaxedSimdSupported } from '@fastts/core/kernels';
import { BackendSetupError } from './errors.js';

const require = createRequire(import.meta.url);

/** tfjs-backend-wasm registers its backend under this name with this priority. */
const WASM = 'wasm';
const WASM_PRIORITY = 2;
/** The threaded build pre-creates 8 pthread workers; XNNPACK's pool cannot use more. */
export const MAX_WASM_THREADS = 8;

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  [key: string]: unknown;
}

type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

/** The slice of the WebAssembly JS API used here (the project's TS lib has no WebAssembly declarations). */
interface WasmApi {
  instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: unknown; module: unknown }>;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

function wasmOutDir(): string {
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
}

/** Writes the emscripten pthread worker script where Node can load it (once per tfjs version). */
function pthreadWorkerFile(outDir: string): string {
  const version = (require('@tensorflow/tfjs-backend-wasm/package.json') as { version: string }).version;
  const dir = join(tmpdir(), `fastts-tfjs-wasm-${version}`);
  const file = join(dir, 'pthread-worker.cjs');
  if (existsSync(file)) return file;
  const { wasmWorkerContents } = require(join(outDir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  // As tfjs does before making a Blob of it: the template literal turned '\n' escapes into real newlines.
  writeFileSync(tmp, wasmWorkerContents.replace(/\n/g, '\\n'));
  renameSync(tmp, file);
  return file;
}

/** Instantiates the threaded SIMD build with a pool of `threads` XNNPACK threads. */
async function instantiateThreaded(threads: number): Promise<EmscriptenModule> {
  const outDir = wasmOutDir();
  const mainScript = join(outDir, 'tfjs-backend-wasm-threaded-simd.js');
  const factory = require(mainScript) as Factory;
  const workerFile = pthreadWorkerFile(outDir);
  const wasmFile = join(outDir, 'tfjs-backend-wasm-threaded-simd.wasm');
  const { readFile } = await import('node:fs/promises');
  const binary = await readFile(wasmFile);
  const module = await factory({
    locateFile: (path: string) => (path.endsWith('.worker.js') ? workerFile : join(outDir, path)),
    mainScriptUrlOrBlob: mainScript,
    instantiateWasm(imports: { env: Record<string, unknown> }, receiveInstance: (instance: unknown, module: unknown) => void) {
      // The build sizes XNNPACK's pool as min(logical cores / 2, requested): report 2 × requested.
      imports.env['emscripten_num_logical_cores'] = () => 2 * threads;
      void wasmApi.instantiate(binary, imports).then(({ instance, module: m }) => receiveInstance(instance, m));
      return {};
    },
  });
  // What tfjs-backend-wasm's init() attaches before handing the module to BackendWasm.
  module['tfjs'] = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/**
 * XNNPACK's pool threads block in the wasm (Atomics.wait) between jobs and never end; emscripten `ref()`s their
 * Node workers, which would keep the process from exiting. They need no event loop: unref them.
 */
function unrefPthreads(module: EmscriptenModule): void {
  const pthread = module['PThread'] as { runningWorkers?: Array<{ unref?(): void }>; unusedWorkers?: Array<{ unref?(): void }> };
  for (const w of [...(pthread?.runningWorkers ?? []), ...(pthread?.unusedWorkers ?? [])]) w.unref?.();
}

let configuredThreads: number | null = null;
/** tfjs-backend-wasm's own factory (single-threaded SIMD build in Node), kept when we replace it. */
let stockFactory: (() => unknown) | null = null;

/**
 * Registers (or re-registers) the `wasm` backend for `threads` XNNPACK threads: 1 = the plain SIMD build
 * (tfjs-backend-wasm's default in Node), more = the threaded SIMD build. Does not activate it.
 * @throws BackendSetupError when the wasm backend already runs with another thread count and holds tensors
 */
export function registerWasmBackend(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) {
    throw new BackendSetupError(`wasm threads must be an integer from 1 to ${MAX_WASM_THREADS}, got ${threads}`);
  }
  if (configuredThreads === threads) return;
  const running = tf.engine().registry[WASM] !== undefined;
  if (running) {
    if (tf.getBackend() === WASM && tf.memory().numTensors > 0) {
      throw new BackendSetupError(
        `the wasm backend already runs with ${wasmThreads()} thread(s) and holds ${tf.memory().numTensors} tensors; ` +
          `call setupBackend({ threads: ${threads} }) before creating any tensor`,
      );
    }
  }
  const current = tf.findBackendFactory(WASM) as (() => unknown) | null;
  if (current === null) {
    throw new BackendSetupError('the wasm backend is not registered: is @tensorflow/tfjs-backend-wasm installed?');
  }
  stockFactory ??= current;
  tf.removeBackend(WASM);
  setThreadsCount(threads);
  // 1 thread: tfjs-backend-wasm's own loader (the SIMD build); more: the threaded SIMD build.
  const factory =
    threads === 1
      ? stockFactory
      : async () => {
          const module = await instantiateThreaded(threads);
          const backend = new BackendWasm(module as never); // starts XNNPACK's pthreadpool
          unrefPthreads(module);
          return backend;
        };
  tf.registerBackend(WASM, factory as () => tf.KernelBackend | Promise<tf.KernelBackend>, WASM_PRIORITY);
  configuredThreads = threads;
}

/** The number of XNNPACK threads of the running wasm backend (0 when it is not running). */
export function wasmThreads(): number {
  try {
    return getThreadsCount();
  } catch {
    return 0;
  }
}

/**
 * Turns on WebAssembly relaxed SIMD (fused multiply-add) where Node ships it behind a flag (Node 20); fastts' conv
 * kernels then use `f32x4.relaxed_madd`. Node ≥ 22 has it on already. Returns whether it is available.
 */
export function enableRelaxedSimd(): boolean {
  if (relaxedSimdSupported()) return true;
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // an engine without the flag: multiply + add it is
  }
  return relaxedSimdSupported();
}

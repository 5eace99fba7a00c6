/**
 * Kernel threads for one wasm replica: the SIMD engine's parallel jobs (Winograd blocks, convolution tiles) run on
 * `threads` cores that share the replica's wasm heap, instead of one replica (weights, activations, a heap of its
 * own) per core. Needs the threaded wasm build (registerWasmBackend(threads > 1): its memory is shared); the
 * helpers are worker threads running @fastts/core's kernel loop over that memory.
 */
import { Worker } from 'node:worker_threads';
import { attachKernelThreads, KernelThreadPool } from '@fastts/core/kernels';
import * as tf from '@tensorflow/tfjs-core';
import { DataParallelError } from '../errors.js';

/** The helper script: the built file next to the bundle, or the TypeScript source under tsx (tests, tsx runs). */
function helperUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('./kernel-helper-dev.mjs', here) : new URL('./kernel-helper.js', here);
}

interface WasmMemoryBackend {
  wasm: {
    wasmMemory?: { buffer: ArrayBuffer | SharedArrayBuffer };
    asm?: { memory?: { buffer: ArrayBuffer | SharedArrayBuffer } };
  };
}

/** Threads attached to the active wasm backend's SIMD engine; {@link KernelThreadsHandle.stop} ends them. */
export interface KernelThreadsHandle {
  /** Participants, the calling thread included. */
  size: number;
  /** The pool attached to the engine (null for one thread). */
  pool: KernelThreadPool | null;
  stop(): Promise<void>;
}

/**
 * Starts `threads − 1` helper threads over the active wasm backend's shared memory and attaches them to its SIMD
 * engine (the calling thread is the first of the `threads`).
 * @throws DataParallelError when the active backend is not a threaded wasm backend
 */
export async function startKernelThreads(threads: number): Promise<KernelThreadsHandle> {
  if (!Number.isInteger(threads) || threads < 1)
    throw new DataParallelError(`kernel threads must be a positive integer, got ${threads}`);
  const backend = tf.backend() as unknown as WasmMemoryBackend;
  const memory = backend.wasm?.wasmMemory ?? backend.wasm?.asm?.memory;
  if (tf.getBackend() !== 'wasm' || !memory || !(memory.buffer instanceof SharedArrayBuffer)) {
    throw new DataParallelError(
      'kernel threads need the threaded wasm backend: registerWasmBackend(threads > 1) before tf.setBackend("wasm")',
    );
  }
  if (threads === 1) return { size: 1, pool: null, stop: async () => undefined };
  const pool = new KernelThreadPool(memory, threads - 1);
  const workers = Array.from({ length: threads - 1 }, (_, i) => new Worker(helperUrl(), { workerData: pool.helperData(i + 1) }));
  try {
    await Promise.all(
      workers.map(
        (w, i) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', (e) =>
              reject(new DataParallelError(`kernel thread ${i + 1} failed to start: ${e.message}`, { cause: e })),
            );
            w.once('exit', (code) =>
              reject(new DataParallelError(`kernel thread ${i + 1} exited with code ${code} before it was ready`)),
            );
          }),
      ),
    );
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  }
  for (const w of workers) w.unref(); // they block in Atomics.wait between jobs; they must not keep the process alive
  attachKernelThreads(tf.backend() as never, pool);
  return {
    size: threads,
    pool,
    async stop() {
      attachKernelThreads(tf.backend() as never, null);
      pool.quit();
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

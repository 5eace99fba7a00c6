/**
 * The tfjs wasm backend's heap as fastts' SIMD kernels see it: the backend's shape (malloc, tensor offsets), typed
 * views of its memory, scratch allocation, and the kernels instantiated over that memory.
 */
import type { DataId, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import { HeapView } from './heap-view.js';
import type { KernelJob, KernelThreads } from './kernel-job.js';

/** The parts of tfjs-backend-wasm's BackendWasm used here. */
export interface WasmBackendLike extends KernelBackend {
  wasm: {
    HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    asm?: { memory?: { buffer: ArrayBuffer } };
    wasmMemory?: { buffer: ArrayBuffer | SharedArrayBuffer };
    tfjs?: { getThreadsCount?(): number };
  };
  dataIdMap: { get(dataId: DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

/** True when `backend` looks like tfjs-backend-wasm's (heap, malloc, tensor offsets). */
export function isWasmBackend(backend: unknown): backend is WasmBackendLike {
  const b = backend as Partial<WasmBackendLike> | null;
  return !!b && typeof b.wasm?._malloc === 'function' && typeof b.makeOutput === 'function' && !!b.dataIdMap;
}

/** XNNPACK threads of a wasm backend (1 when unknown). */
export function wasmBackendThreads(backend: WasmBackendLike): number {
  try {
    return backend.wasm.tfjs?.getThreadsCount?.() ?? 1;
  } catch {
    return 1;
  }
}

/** The WebAssembly memory of a wasm backend. */
export function backendMemory(backend: WasmBackendLike): { buffer: ArrayBuffer | SharedArrayBuffer } {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  if (!memory) throw new Error('the wasm backend exposes no WebAssembly memory');
  return memory;
}

/**
 * A wasm backend's heap with fastts' kernels instantiated over it: tensor addresses, scratch memory, and the
 * threads (when attached) that run the items of parallel jobs on the same heap.
 */
export class WasmHeap extends HeapView {
  /** Threads sharing this heap (see kernel-threads.ts); null: every job runs on the calling thread. */
  threads: KernelThreads | null = null;

  constructor(readonly backend: WasmBackendLike) {
    super(backendMemory(backend));
  }

  /** Participants of parallel jobs: the calling thread and the attached threads. */
  get width(): number {
    return this.threads?.size ?? 1;
  }

  /**
   * Runs items [0, count) of `job` with `args`: on the attached threads and this one, or all here. Returns when
   * every item is done. Items must be independent (any thread may run any item, in any order).
   */
  parallel<F extends string>(job: KernelJob<F>, args: Readonly<Record<F, number>>, count: number): void {
    if (count <= 0) return;
    if (this.threads && count > 1) {
      this.threads.run(job, args, count, (item, thread) => job.run(this, args, item, thread));
      return;
    }
    for (let item = 0; item < count; item++) job.run(this, args, item, 0);
  }

  /** Heap byte address of a tensor's data. @internal */
  ptr(t: TensorInfo): number {
    const d = this.backend.dataIdMap.get(t.dataId);
    if (!d) throw new Error('internal: tensor not on this wasm backend');
    return d.memoryOffset;
  }

  /** Heap scratch memory; throws when the heap is exhausted. @internal */
  malloc(bytes: number): number {
    const p = this.backend.wasm._malloc(bytes) >>> 0;
    if (p === 0) throw new Error(`the wasm heap is exhausted (asked for ${bytes} bytes): lower the batch size`);
    return p;
  }

  /** Frees {@link malloc}'s memory. @internal */
  free(ptr: number): void {
    this.backend.wasm._free(ptr);
  }
}

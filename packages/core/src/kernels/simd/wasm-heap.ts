/**
 * The tfjs wasm backend's heap as fastts' SIMD kernels see it: the backend's shape (malloc, tensor offsets), typed
 * views of its memory, scratch allocation, and the kernels instantiated over that memory.
 */
import type { DataId, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import { instantiateConvKernels, type ConvKernels } from './conv-kernels.js';

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

/** A wasm backend's heap with fastts' kernels instantiated over it. */
export class WasmHeap {
  readonly kernels: ConvKernels;
  private readonly memory: { buffer: ArrayBuffer | SharedArrayBuffer };
  private f32view: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private i32view: Int32Array<ArrayBufferLike> = new Int32Array(0);

  constructor(readonly backend: WasmBackendLike) {
    const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
    if (!memory) throw new Error('the wasm backend exposes no WebAssembly memory');
    this.memory = memory;
    this.kernels = instantiateConvKernels(memory);
  }

  /** Float and int views of the heap (renewed when the memory grows). @internal */
  views(): { f32: Float32Array; i32: Int32Array } {
    if (this.f32view.buffer !== this.memory.buffer) {
      this.f32view = new Float32Array(this.memory.buffer);
      this.i32view = new Int32Array(this.memory.buffer);
    }
    return { f32: this.f32view, i32: this.i32view };
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

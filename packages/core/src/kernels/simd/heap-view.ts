/** WebAssembly memory as fastts' SIMD kernels see it, on any thread sharing it. */
import { instantiateConvKernels, type ConvKernels } from './conv-kernels.js';

/** WebAssembly memory as the kernels see it: the kernels instantiated over it and typed views of it. */
export class HeapView {
  readonly kernels: ConvKernels;
  private f32view: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private i32view: Int32Array<ArrayBufferLike> = new Int32Array(0);

  constructor(readonly memory: { buffer: ArrayBuffer | SharedArrayBuffer }) {
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
}

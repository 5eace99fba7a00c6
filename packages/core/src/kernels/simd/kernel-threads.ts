/**
 * Threads sharing one wasm heap, for the SIMD engine's parallel jobs: one model replica's convolutions spread over
 * several cores (instead of one replica per core, each with its own heap of activations). Platform-neutral: the
 * protocol is SharedArrayBuffer + Atomics; the platform starts the helper threads (Node: worker_threads, see
 * @fastts/node-gpu) and each runs {@link runKernelHelper}.
 *
 * A job is a named function of numeric arguments run over items [0, count) ({@link defineJob}); the calling thread
 * publishes the job in a shared control block, wakes the helpers, takes items itself, and waits until every helper
 * has finished. Items are taken from a shared counter, so any thread may run any item: a job's results must not
 * depend on which thread ran an item (per-item, not per-thread, accumulators), which keeps them deterministic.
 */
import { HeapView } from './heap-view.js';
import { simdConvEngine } from './conv-engine.js';
import { defineJob, kernelJob, type KernelJob, type KernelThreads } from './kernel-job.js';
import type { WasmBackendLike } from './wasm-heap.js';

// Control block layout (Int32 slots), then the job's id (bytes) and arguments (float64).
const GEN = 0; // job generation: helpers wait for it to change
const NEXT = 1; // next item to take
const COUNT = 2;
const DONE = 3; // helpers finished with the current job
const ERROR = 4; // a helper failed (1), its message in the id area afterwards
const ID_LEN = 5;
const QUIT = 6;
const SLOTS = 16;
const ID_BYTES = 256;
const MAX_ARGS = 64;

/** The shared state a helper thread needs: the heap's memory and the pool's control block. */
export interface KernelHelperData {
  memory: { buffer: ArrayBuffer | SharedArrayBuffer };
  control: SharedArrayBuffer;
  /** 1-based helper number (the calling thread is 0). */
  thread: number;
}

/** Latin-1 bytes of a string (job ids are ASCII; messages may lose accents), at most `max`. */
const encode = (s: string, max: number): Uint8Array => Uint8Array.from(s.slice(0, max), (ch) => ch.charCodeAt(0) & 0xff);
const decode = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

function layout(control: SharedArrayBuffer): { ctl: Int32Array; id: Uint8Array; args: Float64Array } {
  return {
    ctl: new Int32Array(control, 0, SLOTS),
    id: new Uint8Array(control, SLOTS * 4, ID_BYTES),
    args: new Float64Array(control, SLOTS * 4 + ID_BYTES, MAX_ARGS),
  };
}

/** The calling side of a pool of `helpers` threads over the shared `memory` (the helpers are started separately). */
export class KernelThreadPool implements KernelThreads {
  readonly control = new SharedArrayBuffer(SLOTS * 4 + ID_BYTES + MAX_ARGS * 8);
  private readonly ctl: Int32Array;
  private readonly id: Uint8Array;
  private readonly args: Float64Array;

  constructor(
    readonly memory: { buffer: ArrayBuffer | SharedArrayBuffer },
    readonly helpers: number,
  ) {
    if (!(typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer)) {
      throw new Error('kernel threads need a shared WebAssembly memory (the threaded wasm build)');
    }
    ({ ctl: this.ctl, id: this.id, args: this.args } = layout(this.control));
  }

  get size(): number {
    return this.helpers + 1;
  }

  /** What helper `thread` (1-based) is started with. */
  helperData(thread: number): KernelHelperData {
    return { memory: this.memory, control: this.control, thread };
  }

  run<F extends string>(
    job: KernelJob<F>,
    args: Readonly<Record<F, number>>,
    count: number,
    local: (item: number, thread: number) => void,
  ): void {
    const { ctl } = this;
    const idBytes = encode(job.id, ID_BYTES + 1);
    if (idBytes.length > ID_BYTES || job.fields.length > MAX_ARGS)
      throw new Error(`internal: kernel job '${job.id}' too large for the control block`);
    this.id.set(idBytes);
    job.fields.forEach((f, i) => (this.args[i] = args[f]));
    Atomics.store(ctl, ID_LEN, idBytes.length);
    Atomics.store(ctl, COUNT, count);
    Atomics.store(ctl, NEXT, 0);
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, ERROR, 0);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN);
    let failure: unknown = null;
    for (;;) {
      const item = Atomics.add(ctl, NEXT, 1);
      if (item >= count) break;
      try {
        local(item, 0);
      } catch (e) {
        failure ??= e;
      }
    }
    for (let done = Atomics.load(ctl, DONE); done < this.helpers; done = Atomics.load(ctl, DONE)) Atomics.wait(ctl, DONE, done);
    if (failure) throw failure;
    if (Atomics.load(ctl, ERROR)) {
      throw new Error(`kernel thread failed in job '${job.id}': ${decode(this.id.slice(0, Atomics.load(ctl, ID_LEN)))}`);
    }
  }

  /** Ends the helpers' loops (they return from {@link runKernelHelper}). */
  quit(): void {
    Atomics.store(this.ctl, QUIT, 1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
  }
}

/** Writes the thread that ran item i at i32 address probe + 4i, after about `spin` iterations of busy work. */
const probeJob = defineJob('threads.probe', ['probe', 'spin'], (h, a, item, thread) => {
  let x = 0;
  for (let i = 0; i < a.spin; i++) x = (x * 1103515245 + 12345) | 0;
  h.views().i32[(a.probe >>> 2) + item] = thread + (x === 0.5 ? 1 : 0);
});

/**
 * Which thread ran each of `items` items of a job that keeps a core busy for a while per item (a diagnostic: with
 * threads attached, several threads show up).
 */
export function probeKernelThreads(backend: WasmBackendLike, items: number, spin = 200_000): number[] {
  const heap = simdConvEngine(backend).heap;
  const probe = heap.malloc(items * 4);
  try {
    heap.parallel(probeJob, { probe, spin }, items);
    return Array.from(heap.views().i32.subarray(probe >>> 2, (probe >>> 2) + items));
  } finally {
    heap.free(probe);
  }
}

/**
 * Runs the SIMD engine's parallel jobs of the wasm `backend` on `threads` too (the backend's memory must be the one
 * the pool shares), or only on the calling thread again (`null`). Kernels of a multi-threaded wasm backend run on
 * the SIMD engine only while threads are attached (else on XNNPACK's pool).
 */
export function attachKernelThreads(backend: WasmBackendLike, threads: KernelThreads | null): void {
  simdConvEngine(backend).heap.threads = threads;
}

/**
 * A helper thread's loop: waits for jobs on the control block and runs their items on its own kernels instance over
 * the shared memory, until the pool quits. Blocks the thread (it needs no event loop); call it last.
 */
export function runKernelHelper(data: KernelHelperData, onReady?: () => void): void {
  const heap = new HeapView(data.memory);
  const { ctl, id, args } = layout(data.control);
  let gen = Atomics.load(ctl, GEN);
  onReady?.();
  for (;;) {
    Atomics.wait(ctl, GEN, gen);
    gen = Atomics.load(ctl, GEN);
    if (Atomics.load(ctl, QUIT)) return;
    const name = decode(id.slice(0, Atomics.load(ctl, ID_LEN)));
    const count = Atomics.load(ctl, COUNT);
    try {
      const job = kernelJob(name);
      if (!job) throw new Error(`no kernel job '${name}' in this thread (import @fastts/core first)`);
      const values: Record<string, number> = {};
      job.fields.forEach((f, i) => (values[f] = args[i]!));
      for (;;) {
        const item = Atomics.add(ctl, NEXT, 1);
        if (item >= count) break;
        job.run(heap, values, item, data.thread);
      }
    } catch (e) {
      if (Atomics.compareExchange(ctl, ERROR, 0, 1) === 0) {
        const msg = encode(e instanceof Error ? e.message : String(e), ID_BYTES);
        id.set(msg);
        Atomics.store(ctl, ID_LEN, msg.length);
      }
    }
    Atomics.add(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
}

/**
 * Parallel jobs of the SIMD engine: named functions of numeric arguments, run over items [0, count) on the threads
 * that share a wasm heap (kernel-threads.ts), or all on the calling thread (see WasmHeap.parallel).
 */
import type { HeapView } from './heap-view.js';

/** A named parallel job: `run(heap, args, item, thread)` for each item; `thread` picks per-thread scratch. */
export interface KernelJob<F extends string> {
  id: string;
  fields: readonly F[];
  run(h: HeapView, args: Readonly<Record<F, number>>, item: number, thread: number): void;
}

const registry = new Map<string, KernelJob<string>>();

/** The job registered under `id` (helper threads look jobs up by name). */
export function kernelJob(id: string): KernelJob<string> | undefined {
  return registry.get(id);
}

/** Defines (and registers, for the helper threads) a parallel job over numeric arguments `fields`. */
export function defineJob<F extends string>(id: string, fields: readonly F[], run: KernelJob<F>['run']): KernelJob<F> {
  if (registry.has(id)) throw new Error(`internal: kernel job '${id}' defined twice`);
  const job: KernelJob<F> = { id, fields, run };
  registry.set(id, job as unknown as KernelJob<string>);
  return job;
}

/** What the engine needs of a pool of threads (see {@link KernelThreadPool}). */
export interface KernelThreads {
  /** Participants: the calling thread and the helpers. */
  readonly size: number;
  /** Runs items [0, count) of `job` on every participant; `local` runs one on the calling thread. */
  run<F extends string>(
    job: KernelJob<F>,
    args: Readonly<Record<F, number>>,
    count: number,
    local: (item: number, thread: number) => void,
  ): void;
}

/**
 * Stripes of an accumulating job (a weight gradient's blocks of pixels or tiles): a fixed number, not the number of
 * threads, so that the partial sums and their order — the rounding — do not depend on how many threads ran them.
 * The most threads a replica runs (the threaded wasm build's pool).
 */
export const STRIPES = 8;

/**
 * `dst += src` over `rows` rows of `n` floats (n a multiple of 8), rows `ld` bytes apart, with the engine's affine
 * kernel (dst = 1·src + 1·dst + 0: one rounding, as a plain add); `ones` and `zeros` hold n floats each.
 */
export function addRows(
  h: HeapView,
  dst: number,
  src: number,
  ld: number,
  rows: number,
  n: number,
  ones: number,
  zeros: number,
): void {
  h.kernels.affine(src, dst, dst, ld, rows, n / 8, ones, ones, zeros);
}

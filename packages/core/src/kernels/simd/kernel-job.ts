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
  run<F extends string>(job: KernelJob<F>, args: Readonly<Record<F, number>>, count: number, local: (item: number, thread: number) => void): void;
}


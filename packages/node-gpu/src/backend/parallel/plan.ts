/**
 * How many model replicas, and how many threads each, for a machine: one replica per core scales the memory with
 * the cores (each replica holds the weights, gradients, AdamW state and the activations of its micro-batch in a wasm
 * heap of its own, ~1.5 GB for ResNet-34 at 224 px and micro-batches of 8), while one replica on many threads pays
 * for every serial part of a step (the ops outside the SIMD engine) on every thread. The plan takes the middle:
 * threads per replica grow with the square root of the cores (1 up to 3 cores, 2 up to 15, 4 up to 63, then 8, the
 * threaded wasm build's limit), the replicas fill the cores, and fewer replicas with more threads each when the
 * memory would not hold them.
 */
import { cpus, freemem, totalmem } from 'node:os';

/** The most threads one wasm replica runs (the threaded build's pre-created pthread pool). */
export const MAX_THREADS_PER_REPLICA = 8;

/** Replicas × threads per replica. */
export interface WorkerPlan {
  workers: number;
  threadsPerWorker: number;
  /** One line saying why. */
  reason: string;
}

/** Options of {@link planWorkers}. */
export interface PlanOptions {
  /** CPU cores to use (default: all). */
  cores?: number;
  /** Bytes the replicas may take together (default: half of the free memory, at least a quarter of the total). */
  memoryBytes?: number;
  /** Peak bytes of one replica (its wasm heap), when known. */
  bytesPerReplica?: number;
}

/** Replicas and threads per replica for `cores` cores within `memoryBytes` (see the module comment). */
export function planWorkers(options: PlanOptions = {}): WorkerPlan {
  const cores = Math.max(1, Math.floor(options.cores ?? cpus().length));
  let threads = 1;
  while (threads * 2 <= MAX_THREADS_PER_REPLICA && threads * 2 * threads * 2 <= cores) threads *= 2;
  let workers = Math.max(1, Math.floor(cores / threads));
  let reason = `${cores} cores: ${workers} replica${workers === 1 ? '' : 's'} x ${threads} thread${threads === 1 ? '' : 's'}`;
  const memory = options.memoryBytes ?? Math.max(freemem() / 2, totalmem() / 4);
  if (options.bytesPerReplica && options.bytesPerReplica * workers > memory) {
    const fit = Math.max(1, Math.floor(memory / options.bytesPerReplica));
    threads = Math.min(MAX_THREADS_PER_REPLICA, Math.max(threads, Math.floor(cores / fit)));
    workers = Math.max(1, Math.min(fit, Math.floor(cores / threads)));
    reason += `; memory for ${fit} replica${fit === 1 ? '' : 's'} of ${(options.bytesPerReplica / 2 ** 30).toFixed(1)} GB: ${workers} x ${threads}`;
  }
  return { workers, threadsPerWorker: threads, reason };
}

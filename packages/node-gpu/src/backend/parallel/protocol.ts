/** Messages between the data-parallel trainer (main thread) and its workers. */
import type { BatchNormBuffers } from '@fastts/core/nn';

/**
 * How a worker builds the model (or loss): `(await import(module))[export](...args)`. The module specifier must
 * be importable from the worker (a package name such as `@fastts/core`, or a `file://` URL).
 */
export interface FactorySpec {
  module: string;
  export: string;
  args?: unknown[];
}

/** AdamW hyper-parameters of one step (decoupled weight decay, fast.ai/PyTorch semantics). */
export interface AdamWHyper {
  /** Learning rate per parameter group (or one for all). */
  lr: number | number[];
  /** beta1 (fast.ai's momentum) per group (or one for all). Default 0.9. */
  mom?: number | number[];
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay. */
  wd?: number;
}

export interface InitMessage {
  type: 'init';
  index: number;
  model: FactorySpec;
  loss: FactorySpec | null;
  microBatch: number;
  threads: number;
  /** Use fastts' SIMD conv kernels instead of XNNPACK (single-threaded workers). */
  simd: boolean;
  /** Hand the SIMD engine's 1×1 and strided convolutions to ONNX Runtime when it is installed (native-convolutions.ts). */
  native: boolean;
  /** The run's seed: dropout in this replica is seeded by (seed, worker index, step). Unseeded without. */
  seed?: number;
}

/** Sent once the main thread has allocated the shared regions for the layout the workers reported. */
export interface AttachMessage {
  type: 'attach';
  /** Every parameter then every buffer (the layout of the init reply). */
  weights: SharedArrayBuffer;
  /** Per worker: its gradient region (all parameters) and BatchNorm-buffer region. */
  grads: SharedArrayBuffer[];
  buffers: SharedArrayBuffer[];
}

export interface GradsMessage {
  type: 'grads';
  x: Float32Array;
  xShape: [number, number, number, number];
  y: Int32Array;
  /** Names of the parameters to differentiate (the trainable ones). */
  trainable: string[];
  /** The trainer's step number (0, 1, ...): with a seed, what this step's dropout masks are drawn from. */
  step: number;
}

/**
 * The sharded AdamW step: each worker updates its own share of the parameters (see `SharedLayout.paramShards`)
 * from every worker's gradients, in the shared weights.
 */
export interface ApplyMessage {
  type: 'apply';
  /** Samples each worker took this step (their gradients are averaged with these weights). */
  counts: number[];
  trainable: string[];
  /** Parameter groups by name (AdamW groups); the trainable names not listed form the last group. */
  groups: string[][];
  hyper: AdamWHyper;
}

/** After every worker's `apply`: load the trainable parameters from the shared weights, combine the BatchNorm buffers. */
export interface LoadParamsMessage {
  type: 'loadParams';
  trainable: string[];
  counts: number[];
}

export type Request =
  | InitMessage
  | AttachMessage
  | GradsMessage
  | ApplyMessage
  | LoadParamsMessage
  | { type: 'syncBuffers'; counts: number[] }
  | { type: 'load' }
  | { type: 'store' }
  | { type: 'predict'; x: Float32Array; xShape: [number, number, number, number] }
  | { type: 'stats' }
  | { type: 'dispose' };

export interface WorkerStats {
  numTensors: number;
  numBytes: number;
  /** Size of the worker's wasm heap (it grows to the peak and never shrinks). */
  heapBytes: number;
  /** The whole process' resident set (all threads). */
  rss: number;
  backend: string;
  /** The native provider of the replica's 1×1 and strided convolutions (`onnxruntime`), or null: all on wasm. */
  nativeConvolutions: string | null;
  /** Threads the replica's SIMD engine runs its jobs on (1: the worker's own thread only). */
  kernelThreads: number;
}

export type Reply =
  | {
      ok: true;
      type: 'init';
      /** Parameters then buffers. */
      layout: Array<{ name: string; shape: number[]; dtype: string }>;
      params: string[];
      buffers: string[];
      /** The model's BatchNorm layers: how the workers' running statistics combine. */
      batchNorms: BatchNormBuffers[];
      /** Names of the parameters whose `trainable` flag is set in the freshly built model. */
      trainable: string[];
      backend: string;
    }
  | { ok: true; type: 'grads'; loss: number; n: number }
  | { ok: true; type: 'attach' | 'apply' | 'loadParams' | 'syncBuffers' | 'load' | 'store' | 'dispose' }
  | { ok: true; type: 'predict'; logits: Float32Array; shape: number[] }
  | { ok: true; type: 'stats'; stats: WorkerStats }
  | { ok: false; error: { name: string; message: string; stack?: string } };

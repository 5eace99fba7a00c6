/**
 * Data-parallel training across worker threads: every worker holds a model replica on its own single-threaded
 * wasm backend; a batch is split into contiguous shards, each worker computes the gradients of its shard (in
 * micro-batches, so that large batches fit the 4 GB wasm heap), and the gradients are averaged in shared memory.
 * The main thread only slices and posts the batch: it stays free to decode and augment the next one.
 *
 * Two ways to finish a step:
 * - {@link DataParallelTrainer.step}: each worker averages the gradients of its share of the parameters and takes
 *   their AdamW step in the shared weights, then every replica loads them (bit-identical replicas, nothing travels
 *   back; each worker reads 1/N of every gradient, so the all-reduce stays O(parameters) per worker) — the fast path;
 * - {@link DataParallelTrainer.computeGradients}: the averaged gradients come back to the caller, whose own
 *   optimizer updates its model; {@link DataParallelTrainer.setWeights} then broadcasts the weights (the
 *   Learner's `TrainStep` contract, see {@link DataParallelStep}).
 *
 * BatchNorm: each micro-batch normalizes with its own statistics (as PyTorch DDP without SyncBatchNorm); the
 * running statistics after a step are the size-weighted mean over micro-batches of the updated statistics.
 * So N workers give the same weights as one worker over the same micro-batches.
 */
import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BatchNormBuffers } from '@fastts/core/nn';
import * as tf from '@tensorflow/tfjs-core';
import { DataParallelError } from '../errors.js';
import { nativeConvolutionsRequested } from '../../onnx/native-convolutions.js';
import { SharedLayout, combineBuffers, weightedSum } from './layout.js';
import { MAX_THREADS_PER_REPLICA, planWorkers } from './plan.js';
import type { AdamWHyper, FactorySpec, Reply, Request, WorkerStats } from './protocol.js';

/** Options of {@link DataParallelTrainer.create}. */
export interface DataParallelOptions {
  /** Builds the model in each worker, e.g. `{ module: '@fastts/core/models', export: 'createModel', args: ['resnet34', { numClasses: 2 }] }`. */
  model: FactorySpec;
  /** Builds the loss function `(logits, targets) => scalar` in each worker. Default: flattened cross-entropy. */
  loss?: FactorySpec;
  /**
   * Model replicas, each on a worker thread (default: {@link planWorkers}' choice for this machine's cores and memory,
   * or the cores / `threadsPerWorker`).
   */
  workers?: number;
  /** Largest micro-batch a worker runs at once (default 16; lower it if the wasm heap runs out). */
  microBatch?: number;
  /**
   * Threads per replica (default: {@link planWorkers}' choice, 1 on small machines). More than one: the replica
   * runs the threaded wasm build, its SIMD engine's jobs on that many threads sharing its heap (kernel threads) and
   * the other ops on XNNPACK's pool of as many.
   */
  threadsPerWorker?: number;
  /**
   * Seed of the replicas' dropout: worker `i` seeds step `s` with `(seed, i, s)`, so that a run is reproducible
   * (default: unseeded). `visionDataParallelStep` passes the learner's seed.
   */
  seed?: number;
  /**
   * Run convolutions on fastts' SIMD micro-kernels (relaxed-SIMD FMA) rather than XNNPACK in single-threaded
   * workers (default true; `false` is for comparisons).
   */
  simd?: boolean;
  /**
   * Hand the SIMD engine's 1×1 and strided convolutions (and the small-image 3×3 forward and input gradient) to
   * ONNX Runtime's native kernels when `onnxruntime-node` is installed (onnx/native-convolutions.ts). Default: on,
   * unless env `FASTTS_NATIVE_CONV=0`. Native GEMMs round differently with
   * different thread counts, so replicas with different threads agree to rounding, not bit for bit.
   */
  nativeConvolutions?: boolean;
}

/** One step's outcome. */
export interface StepOutcome {
  /** Mean loss over the batch. */
  loss: number;
  /** Samples in the batch. */
  n: number;
}

/** A batch as typed arrays: NHWC float32 pixels and int32 class indices. */
export interface RawBatch {
  x: Float32Array;
  shape: [number, number, number, number];
  y: Int32Array;
}

interface Pending {
  resolve(r: Reply): void;
  reject(e: Error): void;
}

class WorkerHandle {
  private readonly pending: Pending[] = [];
  private failed: Error | null = null;

  constructor(
    readonly index: number,
    readonly worker: Worker,
  ) {
    worker.on('message', (reply: Reply) => {
      const p = this.pending.shift();
      if (this.pending.length === 0) worker.unref();
      p?.resolve(reply);
    });
    worker.on('error', (e) => this.fail(e instanceof Error ? e : new Error(String(e))));
    worker.on('exit', (code) => {
      if (this.pending.length > 0) this.fail(new Error(`worker exited with code ${code}`));
    });
    worker.unref();
  }

  private fail(e: Error): void {
    this.failed = e;
    for (const p of this.pending.splice(0)) p.reject(e);
  }

  request<T extends Extract<Reply, { ok: true }>['type']>(
    msg: Request,
    transfer: ArrayBuffer[] = [],
  ): Promise<Extract<Reply, { ok: true; type: T }>> {
    if (this.failed) return Promise.reject(this.wrap(this.failed));
    return new Promise((resolve, reject) => {
      this.pending.push({
        resolve: (r) => {
          if (r.ok) resolve(r as Extract<Reply, { ok: true; type: T }>);
          else reject(this.wrap(Object.assign(new Error(r.error.message), { name: r.error.name, stack: r.error.stack })));
        },
        reject: (e) => reject(this.wrap(e)),
      });
      this.worker.ref();
      this.worker.postMessage(msg, transfer);
    });
  }

  private wrap(e: Error): DataParallelError {
    return new DataParallelError(`data-parallel worker ${this.index} failed: ${e.message}`, { cause: e });
  }
}

/** The worker script: the built file next to the bundle, or the TypeScript source under tsx (tests, tsx runs). */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('./worker-dev.mjs', here) : new URL('./parallel-worker.js', here);
}

function checkInt(v: number, what: string, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new DataParallelError(`${what} must be an integer >= ${min}, got ${v}`);
  return v;
}

/** Data-parallel training of one model over worker threads. Create with {@link DataParallelTrainer.create}. */
export class DataParallelTrainer {
  /** Parameter names, in the model's order. */
  readonly params: string[];
  /** Buffer names (BatchNorm running statistics), in the model's order. */
  readonly buffers: string[];
  /** Parameters trainable in the freshly built model. */
  readonly initiallyTrainable: string[];
  readonly layout: SharedLayout;
  private readonly weights: SharedArrayBuffer;
  private readonly gradRegions: SharedArrayBuffer[];
  private readonly bufferRegions: SharedArrayBuffer[];
  private readonly batchNorms: BatchNormBuffers[];
  private disposed = false;
  /** Gradient computations so far (the step number the workers seed dropout with). */
  private steps = 0;

  private constructor(
    private readonly handles: WorkerHandle[],
    init: Extract<Reply, { ok: true; type: 'init' }>,
    readonly microBatch: number,
    /** Threads per replica. */
    readonly threadsPerWorker: number,
  ) {
    this.params = init.params;
    this.buffers = init.buffers;
    this.batchNorms = init.batchNorms;
    this.initiallyTrainable = init.trainable;
    this.layout = new SharedLayout(init.layout);
    this.weights = this.layout.allocate();
    this.gradRegions = handles.map(() => this.layout.allocate());
    this.bufferRegions = handles.map(() => this.layout.allocate());
  }

  /** Number of workers. */
  get workers(): number {
    return this.handles.length;
  }

  /**
   * Starts the workers, builds a replica in each and makes them identical (worker 0's initial weights).
   * @throws DataParallelError when a worker cannot start or build the model
   */
  static async create(options: DataParallelOptions): Promise<DataParallelTrainer> {
    const plan = options.workers === undefined && options.threadsPerWorker === undefined ? planWorkers() : null;
    const threads = checkInt(plan?.threadsPerWorker ?? options.threadsPerWorker ?? 1, 'threadsPerWorker', 1);
    if (threads > MAX_THREADS_PER_REPLICA)
      throw new DataParallelError(`threadsPerWorker must be at most ${MAX_THREADS_PER_REPLICA}, got ${threads}`);
    const n = checkInt(plan?.workers ?? options.workers ?? Math.max(1, Math.floor(cpus().length / threads)), 'workers', 1);
    const microBatch = checkInt(options.microBatch ?? 16, 'microBatch', 1);
    if (!options.model || typeof options.model.module !== 'string' || typeof options.model.export !== 'string') {
      throw new DataParallelError(
        "model must be a factory spec { module, export, args? }, e.g. { module: '@fastts/core/models', export: 'createModel', args: ['resnet34'] }",
      );
    }
    const url = workerUrl();
    const handles = Array.from({ length: n }, (_, i) => new WorkerHandle(i, new Worker(url)));
    try {
      const inits = await Promise.all(
        handles.map((h) =>
          h.request<'init'>({
            type: 'init',
            index: h.index,
            model: options.model,
            loss: options.loss ?? null,
            microBatch,
            threads,
            simd: options.simd ?? true,
            native: options.nativeConvolutions ?? nativeConvolutionsRequested(),
            ...(options.seed !== undefined ? { seed: options.seed } : {}),
          }),
        ),
      );
      const first = inits[0]!;
      const shape = JSON.stringify(first.layout);
      if (inits.some((r) => JSON.stringify(r.layout) !== shape)) {
        throw new DataParallelError('the model factory built different models in different workers');
      }
      const trainer = new DataParallelTrainer(handles, first, microBatch, threads);
      await Promise.all(
        handles.map((h) =>
          h.request<'attach'>({
            type: 'attach',
            weights: trainer.weights,
            grads: trainer.gradRegions,
            buffers: trainer.bufferRegions,
          }),
        ),
      );
      await handles[0]!.request<'store'>({ type: 'store' });
      await Promise.all(handles.slice(1).map((h) => h.request<'load'>({ type: 'load' })));
      return trainer;
    } catch (e) {
      await Promise.all(handles.map((h) => h.worker.terminate()));
      throw e;
    }
  }

  private check(): void {
    if (this.disposed) throw new DataParallelError('the data-parallel trainer was disposed');
  }

  private async raw(x: tf.Tensor4D | RawBatch, y?: tf.Tensor1D | Int32Array): Promise<RawBatch> {
    if (!(x instanceof tf.Tensor)) return x;
    if (x.rank !== 4) throw new DataParallelError(`expected a NHWC batch of rank 4, got shape [${x.shape.join(',')}]`);
    const ys = y === undefined ? new Int32Array(x.shape[0]) : y instanceof tf.Tensor ? ((await y.data()) as Int32Array) : y;
    const xs = x.dtype === 'float32' ? ((await x.data()) as Float32Array) : Float32Array.from(await x.data());
    return { x: xs, shape: x.shape as [number, number, number, number], y: Int32Array.from(ys) };
  }

  /** Contiguous, near-equal shards: [begin, end) per worker. */
  private shards(n: number): Array<[number, number]> {
    const k = this.handles.length;
    const out: Array<[number, number]> = [];
    let begin = 0;
    for (let i = 0; i < k; i++) {
      const size = Math.floor(n / k) + (i < n % k ? 1 : 0);
      out.push([begin, begin + size]);
      begin += size;
    }
    return out;
  }

  private async gradients(batch: RawBatch, trainable: string[]): Promise<{ loss: number; counts: number[] }> {
    const [n, h, w, c] = batch.shape;
    if (batch.y.length !== n) throw new DataParallelError(`got ${batch.y.length} targets for a batch of ${n}`);
    if (batch.x.length !== n * h * w * c) throw new DataParallelError('pixel data does not match the batch shape');
    for (const name of trainable) {
      if (!this.layout.byName.has(name) || !this.params.includes(name)) {
        throw new DataParallelError(`'${name}' is not a parameter of the model`);
      }
    }
    const pixels = h * w * c;
    const step = this.steps++;
    const replies = await Promise.all(
      this.shards(n).map(([b, e], i) => {
        const x = batch.x.slice(b * pixels, e * pixels);
        const y = batch.y.slice(b, e);
        return this.handles[i]!.request<'grads'>({ type: 'grads', x, xShape: [e - b, h, w, c], y, trainable, step }, [
          x.buffer as ArrayBuffer,
          y.buffer as ArrayBuffer,
        ]);
      }),
    );
    const loss = replies.reduce((s, r) => s + r.loss * r.n, 0) / n;
    return { loss, counts: replies.map((r) => r.n) };
  }

  /**
   * One training step done entirely in the workers: gradients of the batch, averaged, then the same AdamW step in
   * every replica.
   * @param opts.trainable parameters to train (default: those trainable in the freshly built model)
   * @param opts.groups AdamW parameter groups by name (default: one group)
   */
  async step(
    x: tf.Tensor4D | RawBatch,
    y: tf.Tensor1D | Int32Array | undefined,
    opts: { trainable?: string[]; groups?: string[][]; hyper?: AdamWHyper } = {},
  ): Promise<StepOutcome> {
    this.check();
    const batch = await this.raw(x, y);
    const trainable = opts.trainable ?? this.initiallyTrainable;
    const { loss, counts } = await this.gradients(batch, trainable);
    // each worker updates its share of the parameters in the shared weights, then every replica loads them
    await Promise.all(
      this.handles.map((h) =>
        h.request<'apply'>({ type: 'apply', counts, trainable, groups: opts.groups ?? [], hyper: opts.hyper ?? { lr: 1e-3 } }),
      ),
    );
    await Promise.all(this.handles.map((h) => h.request<'loadParams'>({ type: 'loadParams', trainable, counts })));
    return { loss, n: batch.shape[0] };
  }

  /**
   * Forward and backward of one batch in training mode; returns the averaged gradients (fresh arrays the caller
   * owns) and the averaged BatchNorm statistics. The replicas' weights do not change; their BatchNorm statistics
   * become the averaged ones.
   */
  async computeGradients(
    x: tf.Tensor4D | RawBatch,
    y: tf.Tensor1D | Int32Array | undefined,
    trainable: string[] = this.initiallyTrainable,
  ): Promise<StepOutcome & { grads: Map<string, Float32Array>; buffers: Map<string, Float32Array> }> {
    this.check();
    const batch = await this.raw(x, y);
    const { loss, counts } = await this.gradients(batch, trainable);
    const total = counts.reduce((a, b) => a + b, 0);
    const weights = counts.map((k) => k / total);
    const grads = new Map<string, Float32Array>();
    for (const name of trainable) {
      const out = new Float32Array(this.layout.byName.get(name)!.size);
      weightedSum(
        out,
        this.gradRegions.map((g) => this.layout.view(g, name)),
        weights,
      );
      grads.set(name, out);
    }
    const buffers = combineBuffers(
      (name) => this.bufferRegions.map((b) => this.layout.view(b, name) as Float32Array),
      this.buffers,
      weights,
      this.batchNorms,
      (name) => this.layout.byName.get(name)!.size,
    );
    await Promise.all(this.handles.map((h) => h.request<'syncBuffers'>({ type: 'syncBuffers', counts })));
    return { loss, n: batch.shape[0], grads, buffers };
  }

  /**
   * Sets every replica's weights and buffers. Names not given keep the replicas' current values.
   * @throws DataParallelError for an unknown name or a wrong size
   */
  async setWeights(values: ReadonlyMap<string, tf.Tensor | Float32Array | Int32Array>): Promise<void> {
    this.check();
    // Names not given keep replica 0's values.
    if (this.layout.slots.some((s) => !values.has(s.name))) await this.handles[0]!.request<'store'>({ type: 'store' });
    for (const [name, v] of values) {
      const slot = this.layout.byName.get(name);
      if (!slot) throw new DataParallelError(`setWeights: '${name}' is not a parameter or buffer of the model`);
      const data = v instanceof tf.Tensor ? await v.data() : v;
      if (data.length !== slot.size) {
        throw new DataParallelError(`setWeights: '${name}' has ${data.length} values, the model's has ${slot.size}`);
      }
      this.layout.view(this.weights, name).set(data);
    }
    await Promise.all(this.handles.map((h) => h.request<'load'>({ type: 'load' })));
  }

  /** The weights and buffers of replica 0, as fresh arrays (int32 buffers as float32 values). */
  async getWeights(): Promise<Map<string, Float32Array>> {
    this.check();
    await this.handles[0]!.request<'store'>({ type: 'store' });
    return new Map(this.layout.slots.map((s) => [s.name, this.layout.view(this.weights, s.name).slice()]));
  }

  /** The weights of every replica (tests use it to check that they stay identical). */
  async replicaWeights(): Promise<Array<Map<string, Float32Array>>> {
    const out: Array<Map<string, Float32Array>> = [];
    for (const h of this.handles) {
      await h.request<'store'>({ type: 'store' });
      out.push(new Map(this.layout.slots.map((s) => [s.name, this.layout.view(this.weights, s.name).slice()])));
    }
    await this.handles[0]!.request<'store'>({ type: 'store' });
    return out;
  }

  /** Eval-mode logits of a batch, computed data-parallel. */
  async predict(x: tf.Tensor4D | RawBatch): Promise<{ logits: Float32Array; shape: [number, number] }> {
    this.check();
    const batch = await this.raw(x);
    const [n, h, w, c] = batch.shape;
    const pixels = h * w * c;
    const parts = await Promise.all(
      this.shards(n)
        .map(([b, e], i) => ({ b, e, i }))
        .filter(({ b, e }) => e > b)
        .map(({ b, e, i }) => {
          const xs = batch.x.slice(b * pixels, e * pixels);
          return this.handles[i]!.request<'predict'>({ type: 'predict', x: xs, xShape: [e - b, h, w, c] }, [
            xs.buffer as ArrayBuffer,
          ]);
        }),
    );
    const classes = parts[0]?.shape[1] ?? 0;
    const logits = new Float32Array(n * classes);
    let at = 0;
    for (const p of parts) {
      logits.set(p.logits, at);
      at += p.logits.length;
    }
    return { logits, shape: [n, classes] };
  }

  /** tfjs memory of each worker and the process RSS (for leak checks). */
  async stats(): Promise<WorkerStats[]> {
    this.check();
    return Promise.all(this.handles.map(async (h) => (await h.request<'stats'>({ type: 'stats' })).stats));
  }

  /** Frees the replicas and ends the workers. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.allSettled(this.handles.map((h) => h.request<'dispose'>({ type: 'dispose' })));
    await Promise.all(this.handles.map((h) => h.worker.terminate()));
  }
}

/**
 * A data-parallel worker: one model replica on its own wasm backend (one thread, or several sharing its heap). It computes the gradients
 * of its shard of each batch (in micro-batches) and publishes them in shared memory. On `apply` it takes the AdamW
 * step of its own share of the parameters — every worker's gradients averaged in a fixed order — in the shared
 * weights (so each worker reads 1/N of every worker's gradients: the all-reduce costs O(parameters) per worker,
 * whatever N); on `loadParams` every replica loads the updated parameters from there, bit-identical.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { batchNormBuffers, type BatchNormBuffers, seedDropout, type Module } from '@fastts/core/nn';
import { chunkedGradients } from '@fastts/core/platform';
import { crossEntropyFlat, type LossFunction } from '@fastts/core';
import { nativeConvolutions, registerMissingKernels } from '@fastts/core/kernels';
import { enableRelaxedSimd, registerWasmBackend } from '../wasm.js';
import { enableNativeConvolutions } from '../../onnx/native-convolutions.js';
import { FusedAdamW } from './fused-adamw.js';
import { startKernelThreads, type KernelThreadsHandle } from './kernel-threads.js';
import { SharedLayout, combineBuffers } from './layout.js';
import type {
  ApplyMessage,
  AttachMessage,
  FactorySpec,
  GradsMessage,
  InitMessage,
  LoadParamsMessage,
  Reply,
  Request,
} from './protocol.js';

interface Replica {
  model: Module;
  lossFn: LossFunction;
  microBatch: number;
  params: Map<string, tf.Variable>;
  buffers: Map<string, tf.Variable>;
  /** The model's BatchNorm layers (running-statistics buffer names, momentum). */
  batchNorms: BatchNormBuffers[];
  layout: SharedLayout;
  weights?: SharedArrayBuffer;
  grads?: SharedArrayBuffer[];
  bufferRegions?: SharedArrayBuffer[];
  index: number;
  /** The run's seed (dropout of step s is seeded by seed, index, s), or undefined for unseeded dropout. */
  seed: number | undefined;
  /** AdamW state of this worker's share of the parameters (keyed by parameter and range). */
  optimizer: FusedAdamW;
}

let replica: Replica | null = null;
/** This replica's kernel threads (more than one thread per worker). */
let kernelThreads: KernelThreadsHandle | null = null;

function need(): Replica {
  if (!replica) throw new Error('worker used before init');
  return replica;
}

async function build(spec: FactorySpec, what: string): Promise<unknown> {
  const mod = (await import(spec.module)) as Record<string, unknown>;
  const fn = mod[spec.export];
  if (typeof fn !== 'function') {
    throw new Error(`${what} factory: '${spec.module}' has no function export '${spec.export}'`);
  }
  return await (fn as (...a: unknown[]) => unknown)(...(spec.args ?? []));
}

async function init(msg: InitMessage): Promise<Reply> {
  registerWasmBackend(msg.threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start in the worker');
  enableRelaxedSimd();
  registerMissingKernels('wasm', { simd: msg.simd });
  if (msg.simd && msg.native) await enableNativeConvolutions(msg.threads, { enabled: true });
  // several threads: the SIMD engine's jobs run on all of them (the other ops on XNNPACK's pool of as many)
  if (msg.threads > 1 && msg.simd) kernelThreads = await startKernelThreads(msg.threads);
  const model = (await build(msg.model, 'model')) as Module;
  if (!model || typeof (model as { namedParameters?: unknown }).namedParameters !== 'function') {
    throw new Error(`model factory ${msg.model.module}#${msg.model.export} did not return a Module`);
  }
  const lossFn = msg.loss
    ? ((await build(msg.loss, 'loss')) as LossFunction)
    : (logits: tf.Tensor, y: tf.Tensor) => crossEntropyFlat(logits, y);
  model.train();
  const params = new Map(model.namedParameters());
  const buffers = new Map(model.namedBuffers());
  const batchNorms = batchNormBuffers(model);
  const entries = [...params, ...buffers].map(([name, v]) => ({ name, shape: v.shape, dtype: v.dtype }));
  replica = {
    model,
    lossFn,
    microBatch: msg.microBatch,
    params,
    buffers,
    batchNorms,
    layout: new SharedLayout(entries),
    index: msg.index,
    seed: msg.seed,
    optimizer: new FusedAdamW(),
  };
  return {
    ok: true,
    type: 'init',
    layout: replica.layout.toJSON(),
    params: [...params.keys()],
    buffers: [...buffers.keys()],
    batchNorms,
    trainable: [...params].filter(([, v]) => v.trainable).map(([n]) => n),
    backend: tf.getBackend(),
  };
}

function attach(msg: AttachMessage): Reply {
  const r = need();
  r.weights = msg.weights;
  r.grads = msg.grads;
  r.bufferRegions = msg.buffers;
  return { ok: true, type: 'attach' };
}

interface HeapBackend {
  typedArrayFromHeap(t: { shape: number[]; dtype: tf.DataType; dataId: object }): Float32Array | Int32Array;
}

/**
 * Writes a tensor's values into a shared region: straight from the wasm heap (one copy, no garbage: `dataSync`
 * would first copy the ~90 MB of a ResNet-34's gradients into a new array, every step).
 */
function publish(r: Replica, region: SharedArrayBuffer, name: string, v: tf.Tensor): void {
  const b = tf.backend() as unknown as Partial<HeapBackend>;
  const values =
    typeof b.typedArrayFromHeap === 'function' && (v.dtype === 'float32' || v.dtype === 'int32')
      ? b.typedArrayFromHeap({ shape: v.shape, dtype: v.dtype, dataId: v.dataId })
      : (v.dataSync() as Float32Array | Int32Array);
  r.layout.view(region, name).set(values);
}

/** Assigns a variable from float32 values (rounding for int32 buffers). */
function assignFrom(v: tf.Variable, values: Float32Array): void {
  tf.tidy(() => {
    const t =
      v.dtype === 'int32'
        ? tf.tensor(Int32Array.from(values, Math.round), v.shape, 'int32')
        : tf.tensor(values, v.shape, 'float32');
    v.assign(t);
  });
}

function load(): Reply {
  const r = need();
  for (const [name, v] of [...r.params, ...r.buffers]) assignFrom(v, r.layout.view(r.weights!, name));
  return { ok: true, type: 'load' };
}

function store(): Reply {
  const r = need();
  for (const [name, v] of [...r.params, ...r.buffers]) publish(r, r.weights!, name, v);
  return { ok: true, type: 'store' };
}

async function grads(msg: GradsMessage): Promise<Reply> {
  const r = need();
  const [n, h, w, c] = msg.xShape;
  if (n === 0) {
    // An empty shard: zero gradients, buffers unchanged.
    for (const name of msg.trainable) r.layout.view(r.grads![r.index]!, name).fill(0);
    for (const [name, v] of r.buffers) publish(r, r.bufferRegions![r.index]!, name, v);
    return { ok: true, type: 'grads', loss: 0, n: 0 };
  }
  const vars = msg.trainable.map((name) => {
    const v = r.params.get(name);
    if (!v) throw new Error(`unknown parameter '${name}'`);
    return v;
  });
  const want = new Set(msg.trainable);
  for (const [name, v] of r.params) v.trainable = want.has(name);
  const byVarName = new Map(vars.map((v, i) => [v.name, msg.trainable[i]!]));
  r.model.train();
  // The same masks for the same run, worker and step, whatever this worker did before (e.g. on a resumed run).
  if (r.seed !== undefined) seedDropout(r.model, r.seed, r.index, msg.step);
  // Micro-batches sized to the wasm heap; a fast.ai head (BatchNorm1d) still sees the whole shard.
  const xs = tf.tensor4d(msg.x.subarray(0, n * h * w * c), [n, h, w, c]);
  const ys = tf.tensor1d(msg.y.subarray(0, n), 'int32');
  let res: Awaited<ReturnType<typeof chunkedGradients>>;
  try {
    res = await chunkedGradients(r.model, r.lossFn, xs, ys, vars, { chunkSize: r.microBatch });
  } finally {
    tf.dispose([xs, ys]);
  }
  const { loss } = res;
  const acc = new Map<string, tf.Tensor>();
  for (const [vname, g] of res.grads) acc.set(byVarName.get(vname)!, g);
  const region = r.grads![r.index]!;
  for (const name of msg.trainable) {
    const g = acc.get(name);
    if (g) publish(r, region, name, g);
    else r.layout.view(region, name).fill(0); // no path from the loss to this parameter
  }
  for (const t of acc.values()) t.dispose();
  for (const [name, v] of r.buffers) publish(r, r.bufferRegions![r.index]!, name, v);
  return { ok: true, type: 'grads', loss, n };
}

function perGroup(v: number | number[] | undefined, groups: number, fallback: number, what: string): number[] {
  if (v === undefined) return new Array<number>(groups).fill(fallback);
  if (typeof v === 'number') return new Array<number>(groups).fill(v);
  if (v.length !== groups) throw new Error(`got ${v.length} values of ${what} for ${groups} parameter groups`);
  return v;
}

/** Size weights of the workers' gradients (samples per worker / samples in the batch). */
function sampleWeights(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((k) => k / total);
}

/**
 * AdamW on this worker's share of the parameters: the trainable parameters' elements in its range of the flat
 * parameter space, updated in the shared weights (the master copy every replica loads on `loadParams`).
 */
function apply(msg: ApplyMessage): Reply {
  const r = need();
  const weights = sampleWeights(msg.counts);
  const [begin, end] = r.layout.paramShards(r.params.size, r.grads!.length)[r.index]!;
  const inGroups = new Set(msg.groups.flat());
  const rest = msg.trainable.filter((n) => !inGroups.has(n));
  const trainable = new Set(msg.trainable);
  const groups = (rest.length > 0 ? [...msg.groups, rest] : msg.groups)
    .map((g) => g.filter((n) => trainable.has(n)))
    .filter((g) => g.length > 0);
  const lrs = perGroup(msg.hyper.lr, groups.length, 1e-3, 'lr');
  const moms = perGroup(msg.hyper.mom, groups.length, 0.9, 'mom');
  groups.forEach((names, gi) => {
    const hyper = {
      lr: lrs[gi]!,
      beta1: moms[gi]!,
      beta2: msg.hyper.beta2 ?? 0.99,
      eps: msg.hyper.eps ?? 1e-5,
      wd: msg.hyper.wd ?? 0.01,
    };
    for (const name of names) {
      const slot = r.layout.byName.get(name)!;
      const a = Math.max(begin, slot.offset) - slot.offset;
      const b = Math.min(end, slot.offset + slot.size) - slot.offset;
      if (b <= a) continue;
      const part = (region: SharedArrayBuffer): Float32Array => r.layout.view(region, name).subarray(a, b);
      r.optimizer.update(`${name}[${a}:${b}]`, part(r.weights!), r.grads!.map(part), weights, hyper);
    }
  });
  return { ok: true, type: 'apply' };
}

/** Loads the trainable parameters every worker updated (`apply`) and combines the BatchNorm buffers. */
function loadParams(msg: LoadParamsMessage): Reply {
  const r = need();
  for (const name of msg.trainable) assignFrom(r.params.get(name)!, r.layout.view(r.weights!, name));
  averageBuffers(r, sampleWeights(msg.counts));
  return { ok: true, type: 'loadParams' };
}

/**
 * Sets the BatchNorm statistics to what every worker's (published by `grads`) give together: the weighted mean,
 * plus the between-worker variance of the means in the running variances (see `combineBuffers`).
 */
function averageBuffers(r: Replica, weights: number[]): void {
  const views = (name: string) => r.bufferRegions!.map((b) => r.layout.view(b, name) as Float32Array);
  const combined = combineBuffers(views, [...r.buffers.keys()], weights, r.batchNorms, (n) => r.buffers.get(n)!.size);
  for (const [name, v] of r.buffers) assignFrom(v, combined.get(name)!);
}

function predict(x: Float32Array, shape: [number, number, number, number]): Reply {
  const r = need();
  r.model.eval();
  try {
    const logits = tf.tidy(() => r.model.forward(tf.tensor4d(x, shape)));
    const out = logits.dataSync() as Float32Array;
    const outShape = logits.shape;
    logits.dispose();
    return { ok: true, type: 'predict', logits: out, shape: outShape };
  } finally {
    r.model.train();
  }
}

async function handle(msg: Request): Promise<Reply> {
  switch (msg.type) {
    case 'init':
      return init(msg);
    case 'attach':
      return attach(msg);
    case 'load':
      return load();
    case 'store':
      return store();
    case 'grads':
      return grads(msg);
    case 'apply':
      return apply(msg);
    case 'loadParams':
      return loadParams(msg);
    case 'syncBuffers':
      averageBuffers(need(), sampleWeights(msg.counts));
      return { ok: true, type: 'syncBuffers' };
    case 'predict':
      return predict(msg.x, msg.xShape);
    case 'stats': {
      const m = tf.memory();
      const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length ?? 0;
      return {
        ok: true,
        type: 'stats',
        stats: {
          numTensors: m.numTensors,
          numBytes: m.numBytes,
          heapBytes: heap,
          rss: process.memoryUsage().rss,
          backend: tf.getBackend(),
          nativeConvolutions: nativeConvolutions()?.name ?? null,
          kernelThreads: kernelThreads?.size ?? 1,
        },
      };
    }
    case 'dispose':
      replica?.model.dispose();
      replica = null;
      await kernelThreads?.stop();
      kernelThreads = null;
      return { ok: true, type: 'dispose' };
  }
}

const port = parentPort;
if (!port) throw new Error('the data-parallel worker must run in a worker thread');
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: Request) => {
  // One request at a time, in order.
  queue = queue.then(async () => {
    let reply: Reply;
    try {
      const t0 = performance.now();
      reply = await handle(msg);
      if (process.env['FASTTS_DP_TRACE'])
        console.error(`[worker ${replica?.index}] ${msg.type} ${(performance.now() - t0).toFixed(0)} ms`);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reply = { ok: false, error: { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}) } };
    }
    const transfer = reply.ok && reply.type === 'predict' ? [reply.logits.buffer as ArrayBuffer] : [];
    port.postMessage(reply, transfer);
  });
});

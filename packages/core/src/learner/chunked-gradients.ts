/**
 * Gradients of one batch computed in chunks (micro-batches), so that the autodiff tape of a big model fits in a
 * small heap (the wasm backend's 4 GB). Shared by the in-process step and the data-parallel workers.
 *
 * Chunking changes what batch-dependent layers see: a BatchNorm normalizes each chunk with that chunk's
 * statistics. In the body of a CNN (BatchNorm2d over chunk × height × width values per channel) that is the
 * "ghost batch" effect fast.ai users know from small batches. In fast.ai's head it is not benign: its BatchNorm1d
 * layers see one value per image, and over a chunk of 3 images of the same class they normalize the class signal
 * away (training loss above ln 2 while validation is perfect). So when the model is a `Sequential(body, …, head)`
 * whose head holds BatchNorm, the head runs once on the whole batch:
 *
 * 1. the body runs forward on each chunk without a tape, giving the features of the whole batch;
 * 2. the head runs on the whole batch with a tape: the loss, the head's gradients and ∂loss/∂features;
 * 3. the body runs forward again on each chunk, with a tape, and back-propagates its slice of ∂loss/∂features.
 *
 * The price is one more forward pass of the body per chunked batch; the result is the exact gradient of the
 * whole-batch head on chunk-normalized body features. Batches that fit in one chunk take the plain path.
 * The body must be deterministic in training mode (BatchNorm yes, dropout no), as fast.ai's bodies are.
 */
import * as tf from '@tensorflow/tfjs-core';
import { batchNormBuffers, Sequential, type Module } from '../nn/index.js';
import type { LossFunction } from './loss.js';

/** How a chunked batch treats the model's head (see the module comment). */
export type HeadMode = 'whole-batch' | 'per-chunk';

/** Options of {@link chunkedGradients}. */
export interface ChunkedGradientsOptions {
  /** Images per chunk at most: the batch runs in balanced chunks (see {@link chunkRanges}). */
  chunkSize: number;
  /**
   * `'whole-batch'` (default): a head with BatchNorm runs once on the whole batch (exact for the head, one more
   * body forward pass). `'per-chunk'`: every chunk runs the whole model, and its gradients are weighted by size.
   */
  head?: HeadMode;
}

/** The loss (mean over the batch), one gradient per variable (by `variable.name`) and how it was computed. */
export interface ChunkedGradients {
  loss: number;
  grads: Map<string, tf.Tensor>;
  /** Number of chunks the batch ran in. */
  chunks: number;
  /** Whether the head ran on the whole batch (two passes over the body). */
  wholeBatchHead: boolean;
}

/**
 * `[start, end)` ranges covering `n` items in as few chunks of at most `size` as possible, balanced (sizes
 * differ by at most one), none of one item unless `n` is 1 (BatchNorm needs two values): when `size` is 1, or
 * balancing would leave single items, chunks of two and three.
 */
export function chunkRanges(n: number, size: number): Array<[number, number]> {
  if (n <= 0) return [];
  let k = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(size))));
  if (n >= 2 && Math.floor(n / k) < 2) k = Math.floor(n / 2);
  const base = Math.floor(n / k);
  const extra = n - base * k; // the first `extra` chunks get one more
  const out: Array<[number, number]> = [];
  for (let i = 0, s = 0; i < k; i++) {
    const e = s + base + (i < extra ? 1 : 0);
    out.push([s, e]);
    s = e;
  }
  return out;
}

/** The body and head of a `Sequential(…, head)` whose head has batch statistics, else undefined. */
function splitHead(model: Module): { body: (x: tf.Tensor) => tf.Tensor; head: Module } | undefined {
  if (!(model instanceof Sequential) || model.length < 2) return undefined;
  const head = model.at(-1);
  if (!head.namedBuffers().some(([n]) => n.endsWith('running_mean'))) return undefined;
  const layers = Array.from({ length: model.length - 1 }, (_, i) => model.at(i));
  return { body: (x) => layers.reduce((h, m) => m.forward(h), x), head };
}

const sliceRows = <T extends tf.Tensor>(t: T, s: number, e: number): T =>
  tf.slice(t, [s, ...t.shape.slice(1).map(() => 0)], [e - s, ...t.shape.slice(1).map(() => -1)]) as T;

function accumulate(into: Map<string, tf.Tensor>, name: string, g: tf.Tensor): void {
  const prev = into.get(name);
  if (!prev) {
    into.set(name, tf.keep(g));
    return;
  }
  into.set(name, tf.keep(tf.add(prev, g)));
  tf.dispose([prev, g]);
}

/**
 * BatchNorm running statistics over several chunks: every chunk starts from the statistics the batch started
 * with, and the batch ends with the statistics one whole batch would have given: the size-weighted mean of the
 * chunks' running means, and of their running variances plus the between-chunk variance of the chunk means (the
 * law of total variance; a chunk's variance alone misses how far its mean lies from the batch's), and
 * `num_batches_tracked` advanced by one. Only the running statistics see the whole batch: each chunk's forward
 * pass is normalized with its own statistics.
 */
class BufferAverager {
  private readonly buffers: tf.Variable[];
  private readonly initial: tf.Tensor[];
  private readonly sums: Array<tf.Tensor | undefined>;
  /** Per BatchNorm: its buffers' indices, momentum, and Σ w·d, Σ w·d² of d = running mean − its initial value. */
  private readonly norms: Array<{ mean: number; variance: number; momentum: number; s1?: tf.Tensor; s2?: tf.Tensor }>;
  private started = false;

  constructor(model: Module) {
    const named = model.namedBuffers();
    this.buffers = named.map(([, b]) => b);
    this.initial = this.buffers.map((b) => tf.keep(tf.clone(b)));
    this.sums = this.buffers.map(() => undefined);
    const index = new Map(named.map(([n], i) => [n, i]));
    this.norms = batchNormBuffers(model)
      .filter((bn) => bn.momentum > 0)
      .map((bn) => ({ mean: index.get(bn.mean)!, variance: index.get(bn.variance)!, momentum: bn.momentum }));
  }

  /** Before a chunk: back to the batch's starting statistics (from the second chunk on). */
  begin(): void {
    if (this.started) this.buffers.forEach((b, i) => b.assign(this.initial[i]!));
    this.started = true;
  }

  /** After a chunk of `weight` (its share of the batch). */
  add(weight: number): void {
    const plus = (prev: tf.Tensor | undefined, f: () => tf.Tensor): tf.Tensor => {
      const next = tf.keep(tf.tidy(() => (prev ? tf.add(prev, f()) : f())));
      if (prev) prev.dispose();
      return next;
    };
    this.buffers.forEach((b, i) => {
      if (b.dtype === 'float32') this.sums[i] = plus(this.sums[i], () => tf.mul(b, weight));
    });
    for (const n of this.norms) {
      const d = () => tf.sub(this.buffers[n.mean]!, this.initial[n.mean]!);
      n.s1 = plus(n.s1, () => tf.mul(d(), weight));
      n.s2 = plus(n.s2, () => tf.mul(tf.square(d()), weight));
    }
  }

  /** The batch's final statistics, as tensors to assign later (the caller disposes them). */
  result(): tf.Tensor[] {
    const out = this.buffers.map((b, i) =>
      b.dtype === 'float32'
        ? tf.keep(tf.clone(this.sums[i]!))
        : tf.keep(tf.tidy(() => tf.add(this.initial[i]!, tf.scalar(1, b.dtype)))),
    );
    for (const n of this.norms) {
      if (!n.s1 || !n.s2) continue;
      // d_i = m·(μ_i − r0): Σw(μ_i − μ̄)² = (Σw·d² − (Σw·d)²) / m², folded in with weight m
      const { s1, s2, momentum: m } = n;
      const prev = out[n.variance]!;
      out[n.variance] = tf.keep(tf.tidy(() => tf.add(prev, tf.div(tf.relu(tf.sub(s2, tf.square(s1))), m))));
      prev.dispose();
    }
    return out;
  }

  /** Assigns `values` (from {@link result}) to the buffers. */
  assign(values: tf.Tensor[]): void {
    this.buffers.forEach((b, i) => b.assign(values[i]!));
  }

  dispose(): void {
    const norms = this.norms.flatMap((n) => [n.s1, n.s2]);
    tf.dispose([...this.initial, ...[...this.sums, ...norms].filter((t): t is tf.Tensor => t !== undefined)]);
  }
}

/**
 * Loss and gradients of `lossFunc(model.forward(x), y)` with respect to `vars`, the model in training mode,
 * computed in chunks of `chunkSize` images (see the module comment for what that means for BatchNorm). With one
 * chunk this is `tf.variableGrads`. BatchNorm running statistics are updated once for the batch. The caller
 * disposes the gradients.
 */
export async function chunkedGradients(
  model: Module,
  lossFunc: LossFunction,
  x: tf.Tensor4D,
  y: tf.Tensor,
  vars: tf.Variable[],
  options: ChunkedGradientsOptions,
): Promise<ChunkedGradients> {
  const n = x.shape[0];
  const ranges = chunkRanges(n, options.chunkSize);
  const grads = new Map<string, tf.Tensor>();
  if (ranges.length === 1) {
    const { value, grads: g } = tf.variableGrads(() => lossFunc(model.forward(x), y) as tf.Scalar, vars);
    const loss = (await value.data())[0]!;
    value.dispose();
    for (const [name, t] of Object.entries(g)) grads.set(name, t);
    return { loss, grads, chunks: 1, wholeBatchHead: false };
  }
  const split = (options.head ?? 'whole-batch') === 'whole-batch' ? splitHead(model) : undefined;
  const stats = new BufferAverager(model);
  try {
    if (!split) {
      let loss = 0;
      for (const [s, e] of ranges) {
        const weight = (e - s) / n;
        stats.begin();
        const l = tf.tidy(() => {
          const xs = sliceRows(x, s, e);
          const ys = sliceRows(y, s, e);
          const { value, grads: g } = tf.variableGrads(() => tf.mul(lossFunc(model.forward(xs), ys), weight) as tf.Scalar, vars);
          for (const [name, t] of Object.entries(g)) accumulate(grads, name, t);
          return value;
        });
        loss += (await l.data())[0]!;
        l.dispose();
        stats.add(weight);
      }
      const final = stats.result();
      stats.assign(final);
      tf.dispose(final);
      return { loss, grads, chunks: ranges.length, wholeBatchHead: false };
    }

    // 1. body features of the whole batch, chunk by chunk, no tape
    const feats: tf.Tensor[] = [];
    for (const [s, e] of ranges) {
      stats.begin();
      feats.push(tf.tidy(() => split.body(sliceRows(x, s, e))));
      stats.add((e - s) / n);
    }
    const bodyStats = stats.result();
    // 2. the head on the whole batch: loss, head gradients, ∂loss/∂features
    const headVars = new Set<tf.Variable>(split.head.parameters());
    const cat = tf.concat(feats);
    const features = tf.variable(cat, true, `chunked-features-${Math.random().toString(36).slice(2)}`);
    tf.dispose([cat, ...feats]);
    stats.begin(); // the head's statistics start from the batch's starting values: updated once, by the whole batch
    let loss: number;
    let dFeatures: tf.Tensor;
    try {
      const { value, grads: g } = tf.variableGrads(
        () => lossFunc(split.head.forward(features), y) as tf.Scalar,
        [...vars.filter((v) => headVars.has(v)), features],
      );
      loss = (await value.data())[0]!;
      value.dispose();
      dFeatures = g[features.name]!;
      for (const [name, t] of Object.entries(g)) if (name !== features.name) grads.set(name, t);
    } finally {
      features.dispose();
    }
    const headStats = split.head.namedBuffers().map(([, b]) => tf.keep(tf.clone(b)));
    // 3. the body again, with a tape, back-propagating its slice of ∂loss/∂features
    const bodyVars = vars.filter((v) => !headVars.has(v));
    try {
      if (bodyVars.length > 0) {
        for (const [s, e] of ranges) {
          tf.tidy(() => {
            const xs = sliceRows(x, s, e);
            const dy = sliceRows(dFeatures, s, e);
            const { value, grads: g } = tf.variableGrads(() => tf.sum(tf.mul(split.body(xs), dy)) as tf.Scalar, bodyVars);
            value.dispose();
            for (const [name, t] of Object.entries(g)) accumulate(grads, name, t);
          });
        }
      }
      // running statistics: the body's from pass 1, the head's from the whole batch
      stats.assign(bodyStats);
      split.head.namedBuffers().forEach(([, b], i) => b.assign(headStats[i]!));
    } finally {
      tf.dispose([dFeatures, ...bodyStats, ...headStats]);
    }
    return { loss, grads, chunks: ranges.length, wholeBatchHead: true };
  } finally {
    stats.dispose();
  }
}

/**
 * Named tensors laid out back to back in one SharedArrayBuffer of float32, so that the main thread and every
 * worker read and write weights, gradients and BatchNorm statistics without copies through messages.
 */
import type { BatchNormBuffers } from '@fastts/core/nn';

/** One named tensor's place in a {@link SharedLayout}. */
export interface TensorSlot {
  name: string;
  shape: number[];
  /** The tensor's own dtype (stored as float32; int32 buffers such as `num_batches_tracked` stay exact below 2^24). */
  dtype: 'float32' | 'int32';
  /** Offset in float32 elements. */
  offset: number;
  size: number;
}

/** Where each named tensor lives in a flat float32 buffer. */
export class SharedLayout {
  readonly slots: TensorSlot[];
  readonly byName: ReadonlyMap<string, TensorSlot>;
  /** Total float32 elements. */
  readonly length: number;

  constructor(entries: ReadonlyArray<{ name: string; shape: readonly number[]; dtype: string }>) {
    let offset = 0;
    this.slots = entries.map((e) => {
      const size = e.shape.reduce((a, b) => a * b, 1);
      const slot: TensorSlot = {
        name: e.name,
        shape: [...e.shape],
        dtype: e.dtype === 'int32' ? 'int32' : 'float32',
        offset,
        size,
      };
      offset += size;
      return slot;
    });
    this.length = offset;
    this.byName = new Map(this.slots.map((s) => [s.name, s]));
  }

  /** A new zeroed SharedArrayBuffer for this layout. */
  allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(Math.max(4, this.length * 4));
  }

  /** The float32 view of one slot in `buffer`. */
  view(buffer: SharedArrayBuffer, name: string): Float32Array {
    const s = this.byName.get(name);
    if (!s) throw new Error(`internal: no slot '${name}' in the shared layout`);
    return new Float32Array(buffer, s.offset * 4, s.size);
  }

  /**
   * The flat element ranges [begin, end) of the first `paramCount` slots (the parameters) that each of `workers`
   * workers owns in the sharded optimizer step: near-equal contiguous shares, fixed for a given model and worker
   * count (so every worker's optimizer state stays with it from step to step, whatever the trainable set).
   */
  paramShards(paramCount: number, workers: number): Array<[number, number]> {
    const last = this.slots[paramCount - 1];
    const total = last ? last.offset + last.size : 0;
    return Array.from({ length: workers }, (_, i): [number, number] => [
      Math.floor((total * i) / workers),
      Math.floor((total * (i + 1)) / workers),
    ]);
  }

  /** Plain-object form for postMessage. */
  toJSON(): Array<{ name: string; shape: number[]; dtype: string }> {
    return this.slots.map((s) => ({ name: s.name, shape: s.shape, dtype: s.dtype }));
  }
}

/**
 * `out = Σ_k weights[k] · inputs[k]` over the elements `[begin, end)` of flat float32 arrays, in a fixed order (so
 * that every replica computing it gets bit-identical results).
 */
export function weightedSum(
  out: Float32Array,
  inputs: readonly Float32Array[],
  weights: readonly number[],
  begin = 0,
  end = out.length,
): void {
  const first = inputs[0];
  if (!first) throw new Error('internal: weightedSum of no inputs');
  const w0 = Math.fround(weights[0]!);
  for (let i = begin; i < end; i++) out[i] = first[i]! * w0;
  for (let k = 1; k < inputs.length; k++) {
    const src = inputs[k]!;
    const w = Math.fround(weights[k]!);
    for (let i = begin; i < end; i++) out[i] = out[i]! + src[i]! * w;
  }
}

/**
 * The workers' buffers combined as one whole batch would leave them: the weighted mean of each buffer, and for
 * each BatchNorm the running variance plus the between-worker variance of the batch means (law of total
 * variance: each worker's running mean moved by `momentum × its batch mean`, so Var_w(running mean) / momentum).
 * The same rule as @fastts/core's micro-batches, so N workers and N micro-batches in one worker agree.
 */
export function combineBuffers(
  views: (name: string) => Float32Array[],
  names: readonly string[],
  weights: readonly number[],
  norms: readonly BatchNormBuffers[],
  size: (name: string) => number,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const name of names) {
    const o = new Float32Array(size(name));
    weightedSum(o, views(name), weights);
    out.set(name, o);
  }
  if (weights.length < 2) return out;
  for (const { mean, variance, momentum } of norms) {
    const means = views(mean);
    const avg = out.get(mean);
    const v = out.get(variance);
    if (!avg || !v || !(momentum > 0)) continue;
    for (let i = 0; i < v.length; i++) {
      let s = 0;
      for (let k = 0; k < means.length; k++) {
        const d = means[k]![i]! - avg[i]!;
        s += weights[k]! * d * d;
      }
      v[i] = v[i]! + s / momentum;
    }
  }
  return out;
}

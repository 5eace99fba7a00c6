/**
 * Named tensors laid out back to back in one SharedArrayBuffer of float32, so that the main thread and every
 * worker read and write weights, gradients and BatchNorm statistics without copies through messages.
 */

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

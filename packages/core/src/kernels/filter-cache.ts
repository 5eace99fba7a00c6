/**
 * Filters rearranged for a gradient kernel (flipped taps, swapped channel axes), computed on the host for
 * backends whose tensors live in host memory (cpu, wasm), and cached per source filter: while a filter does not
 * change (frozen layers, or the forward weights during one step) its rearranged copies — and the packed XNNPACK
 * operator the backend keys on the copy's identity — are reused. An entry is freed once its source tensor is gone.
 */
import type { DataId, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

/** Backends whose `readSync` and `write` are cheap host copies. */
const HOST_BACKENDS = new Set(['cpu', 'wasm']);

export function isHostBackend(backendName: string): boolean {
  return HOST_BACKENDS.has(backendName);
}

interface Entry {
  backend: KernelBackend;
  byKey: Map<string, TensorInfo[]>;
}

const cache = new Map<DataId, Entry>();

/** Frees the entries whose source tensor has been disposed. */
function sweep(): void {
  for (const [dataId, entry] of cache) {
    if (entry.backend.refCount(dataId) === 0) {
      for (const infos of entry.byKey.values()) for (const t of infos) entry.backend.disposeData(t.dataId, true);
      cache.delete(dataId);
    }
  }
}

/** Frees every cached filter (all backends). */
export function clearFilterCache(): void {
  for (const entry of cache.values()) {
    for (const infos of entry.byKey.values()) for (const t of infos) entry.backend.disposeData(t.dataId, true);
  }
  cache.clear();
}

/** Number of cached rearranged filters (for tests). */
export function filterCacheSize(): number {
  let n = 0;
  for (const entry of cache.values()) for (const infos of entry.byKey.values()) n += infos.length;
  return n;
}

/**
 * The rearranged copies of `filter` for `key`, computed by `make` from the filter's values on the first call.
 * The returned tensors belong to the cache: the caller must not dispose them.
 */
export function cachedHostFilters(
  backend: KernelBackend,
  filter: TensorInfo,
  key: string,
  make: (values: Float32Array) => Array<{ shape: number[]; values: Float32Array }>,
): TensorInfo[] {
  return cachedFilters(backend, filter, key, () =>
    make(backend.readSync(filter.dataId) as Float32Array).map((t): TensorInfo => ({
      dataId: backend.write(t.values, t.shape, 'float32'),
      shape: t.shape,
      dtype: 'float32',
    })),
  );
}

/**
 * Like {@link cachedHostFilters}, for copies that `make` writes on the backend itself (e.g. a wasm kernel
 * transforming the filter in place on the heap). The returned tensors belong to the cache.
 */
export function cachedFilters(backend: KernelBackend, filter: TensorInfo, key: string, make: () => TensorInfo[]): TensorInfo[] {
  sweep();
  let entry = cache.get(filter.dataId);
  if (!entry) {
    entry = { backend, byKey: new Map() };
    cache.set(filter.dataId, entry);
  }
  const hit = entry.byKey.get(key);
  if (hit) return hit;
  const infos = make();
  entry.byKey.set(key, infos);
  return infos;
}

/**
 * Taps (ry + s·t, rx + sx·u) of a [kh, kw, ci, co] filter, in reverse order (flipped), as [th, tw, co, ci]
 * (`swap`) or [th, tw, ci, co].
 */
export function phaseFilter(
  w: Float32Array,
  [kh, kw, ci, co]: [number, number, number, number],
  ry: number,
  rx: number,
  sy: number,
  sx: number,
  swap: boolean,
): { shape: number[]; values: Float32Array } {
  const th = ry >= kh ? 0 : Math.ceil((kh - ry) / sy);
  const tw = rx >= kw ? 0 : Math.ceil((kw - rx) / sx);
  const block = ci * co;
  const out = new Float32Array(th * tw * block);
  const B = 32;
  for (let a = 0; a < th; a++) {
    for (let b = 0; b < tw; b++) {
      const src = ((ry + sy * (th - 1 - a)) * kw + (rx + sx * (tw - 1 - b))) * block;
      const dst = (a * tw + b) * block;
      if (!swap) {
        out.set(w.subarray(src, src + block), dst);
        continue;
      }
      // out[dst + o·ci + i] = w[src + i·co + o], blocked for cache locality.
      for (let i0 = 0; i0 < ci; i0 += B) {
        const i1 = Math.min(ci, i0 + B);
        for (let o0 = 0; o0 < co; o0 += B) {
          const o1 = Math.min(co, o0 + B);
          for (let i = i0; i < i1; i++) {
            const s = src + i * co;
            for (let o = o0; o < o1; o++) out[dst + o * ci + i] = w[s + o]!;
          }
        }
      }
    }
  }
  return { shape: swap ? [th, tw, co, ci] : [th, tw, ci, co], values: out };
}

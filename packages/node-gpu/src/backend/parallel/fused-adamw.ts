/**
 * AdamW in one pass over flat arrays, for the data-parallel workers: averaging the workers' gradients (read
 * straight from shared memory) and updating the moments and the weights happen in a single loop, instead of
 * the ~14 full-size tensor operations of an op-by-op AdamW. Same semantics as @fastts/core's `AdamW`
 * (fast.ai/PyTorch AdamW: decoupled weight decay, bias-corrected moments, eps added after the square root):
 *
 *   g = Σ_k w_k·g_k;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
 *   p = p·(1 − lr·wd) − lr/(1−β1ᵗ) · m / (√(v/(1−β2ᵗ)) + eps)
 */

/** Hyper-parameters of one parameter group for one step. */
export interface AdamWGroupHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  wd: number;
}

interface Moments {
  m: Float32Array;
  v: Float32Array;
  step: number;
}

/** Per-parameter AdamW state over flat float32 arrays. */
export class FusedAdamW {
  private readonly moments = new Map<string, Moments>();

  /** Forgets every parameter's moments and step count. */
  reset(): void {
    this.moments.clear();
  }

  /** Number of parameters with state. */
  get size(): number {
    return this.moments.size;
  }

  /**
   * Updates `param` in place from the weighted gradients `grads` (one array per worker, same length).
   * Every replica calling this with the same inputs gets bit-identical results.
   */
  update(
    name: string,
    param: Float32Array,
    grads: readonly Float32Array[],
    weights: readonly number[],
    h: AdamWGroupHyper,
  ): void {
    let st = this.moments.get(name);
    if (!st) {
      st = { m: new Float32Array(param.length), v: new Float32Array(param.length), step: 0 };
      this.moments.set(name, st);
    }
    st.step += 1;
    const { m, v } = st;
    const b1 = h.beta1;
    const b2 = h.beta2;
    const decay = 1 - h.lr * h.wd;
    const stepSize = h.lr / (1 - b1 ** st.step);
    const invDebias2 = 1 / (1 - b2 ** st.step);
    const eps = h.eps;
    const k = grads.length;
    const g0 = grads[0]!;
    const w0 = weights[0]!;
    const g1 = k > 1 ? grads[1]! : g0;
    const w1 = k > 1 ? weights[1]! : 0;
    for (let i = 0; i < param.length; i++) {
      let g = g0[i]! * w0;
      if (k > 1) {
        g += g1[i]! * w1;
        for (let j = 2; j < k; j++) g += grads[j]![i]! * weights[j]!;
        // the averaged gradient as float32, as one worker's accumulated micro-batch gradients are: two equal shards
        // then step exactly as one worker over the same two micro-batches (a tiny BatchNorm batch amplifies even
        // a float64-vs-float32 rounding difference over a few steps)
        g = Math.fround(g);
      }
      const mi = b1 * m[i]! + (1 - b1) * g;
      const vi = b2 * v[i]! + (1 - b2) * g * g;
      m[i] = mi;
      v[i] = vi;
      param[i] = param[i]! * decay - (stepSize * mi) / (Math.sqrt(vi * invDebias2) + eps);
    }
  }
}

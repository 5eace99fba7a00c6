import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { AdamW } from '@fastts/core/platform';
import { describe, expect, it } from 'vitest';
import { FusedAdamW } from './fused-adamw.js';

function randomArray(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = s / 1073741824 - 1;
  }
  return out;
}

describe('FusedAdamW', () => {
  it('takes the same steps as @fastts/core AdamW, with the gradient averaged over workers', async () => {
    await tf.setBackend('cpu');
    const n = 1000;
    const init = randomArray(n, 1);
    const hyper = { lr: 3e-3, beta1: 0.9, beta2: 0.99, eps: 1e-5, wd: 0.01 };
    const variable = tf.variable(tf.tensor1d(init));
    const reference = new AdamW([[{ name: 'w', variable }]], {
      lr: hyper.lr,
      mom: hyper.beta1,
      beta2: hyper.beta2,
      eps: hyper.eps,
      wd: hyper.wd,
    });
    const fused = new FusedAdamW();
    const param = Float32Array.from(init);
    for (let step = 0; step < 4; step++) {
      // Two workers with 3 and 5 samples: the step's gradient is their size-weighted mean.
      const g1 = randomArray(n, 10 + step);
      const g2 = randomArray(n, 20 + step);
      const mean = g1.map((v, i) => (3 * v + 5 * g2[i]!) / 8);
      const g = tf.tensor1d(mean);
      reference.step(new Map([['w', g]]));
      g.dispose();
      fused.update('w', param, [g1, g2], [3 / 8, 5 / 8], hyper);
    }
    const want = variable.dataSync();
    let diff = 0;
    for (let i = 0; i < n; i++) diff = Math.max(diff, Math.abs(param[i]! - want[i]!));
    expect(diff).toBeLessThan(1e-6);
    // and it moved: the test would pass vacuously if nothing changed
    expect(Math.abs(param[0]! - init[0]!)).toBeGreaterThan(1e-4);
    reference.dispose();
    variable.dispose();
  });

  it('keeps separate moments per parameter and forgets them on reset', () => {
    const fused = new FusedAdamW();
    const a = new Float32Array([1, 2]);
    const b = new Float32Array([1, 2]);
    const h = { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-5, wd: 0 };
    fused.update('a', a, [new Float32Array([1, 1])], [1], h);
    fused.update('a', a, [new Float32Array([1, 1])], [1], h);
    fused.update('b', b, [new Float32Array([1, 1])], [1], h);
    expect(fused.size).toBe(2);
    // First Adam step moves by lr whatever the gradient's scale; `b` had one step, `a` two.
    expect(b[0]).toBeCloseTo(0.9, 5);
    expect(a[0]).toBeCloseTo(0.8, 4);
    fused.reset();
    expect(fused.size).toBe(0);
  });
});

/**
 * Seeded pseudo-random numbers for splits, shuffles and augmentation. A small counter-free generator
 * (mulberry32) seeded by mixing any number of integers, so that independent streams (split, shuffle of epoch k,
 * augmentation of epoch k) come from one user seed and stay reproducible whatever else draws numbers.
 */

/** A generator of uniform floats in [0, 1). */
export type Rng = () => number;

function mix(h: number, v: number): number {
  // murmur3-style integer mixing, 32-bit
  let k = Math.imul(v | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * Creates a seeded generator. The same list of seed parts always gives the same sequence; any difference in any
 * part gives an unrelated one. Non-integer parts are folded in by their 32-bit halves.
 */
export function createRng(...seedParts: number[]): Rng {
  let h = 0x9e3779b9 | 0;
  for (const p of seedParts) {
    const lo = p | 0;
    const hi = Math.floor(p / 4294967296) | 0;
    h = mix(mix(h, lo), hi);
  }
  // final avalanche
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  let a = h >>> 0;
  return () => {
    // mulberry32
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random 32-bit seed (used when the caller gives none). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296) >>> 0;
}

/** Uniform float in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

/** Float whose logarithm is uniform in [log lo, log hi) (fast.ai `log_uniform`). */
export function logUniform(rng: Rng, lo: number, hi: number): number {
  return Math.exp(uniform(rng, Math.log(lo), Math.log(hi)));
}

/** True with probability `p` (fast.ai `rand_bool`). */
export function randBool(rng: Rng, p: number): boolean {
  return rng() < p;
}

/** Integer uniform in [lo, hi], both included (fast.ai `uniform_int`). */
export function randInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/** A random permutation of 0..n-1 (Fisher–Yates). */
export function permutation(n: number, rng: Rng): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

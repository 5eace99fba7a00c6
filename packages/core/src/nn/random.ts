/**
 * Seeded randomness for tensors: weight initialization and dropout masks. TF.js's random ops take an explicit
 * seed and otherwise seed themselves from `Math.random()`; every draw here passes a seed taken from a
 * {@link TensorRandom} stream, so that one user seed makes initialization and dropout reproducible.
 *
 * - Initializers draw from the current source: the one {@link withSeed} set for the duration of a (synchronous)
 *   model construction, else the global one ({@link setSeed}, fast.ai's `set_seed`; unseeded by default).
 * - Each `Dropout` layer takes its own stream from the current source when it is built, so its masks depend only on
 *   the seed and on how many batches it has seen, not on what else draws numbers; {@link seedDropout} restarts
 *   the streams of a model's Dropout layers (data-parallel replicas reseed them every step).
 */
import { createRng, randomSeed, type Rng } from '../data/rng.js';
import type { Module } from './module.js';

/** A reproducible stream of seeds for TF.js random ops. */
export class TensorRandom {
  private readonly rng: Rng;

  /** The same seed parts always give the same stream; any difference in any part gives an unrelated one. */
  constructor(...seedParts: number[]) {
    this.rng = createRng(...seedParts);
  }

  /** The next seed: an integer in [1, 2^32) (TF.js treats a seed of 0 as "no seed"). */
  nextSeed(): number {
    return 1 + Math.floor(this.rng() * 0xffffffff);
  }

  /** A new stream seeded from this one (independent of later draws from this one). */
  fork(): TensorRandom {
    return new TensorRandom(this.nextSeed());
  }
}

let globalRandom = new TensorRandom(randomSeed());
let scoped: TensorRandom | undefined;

/**
 * Seeds the global source of weight initialization and of the Dropout layers built afterwards (fast.ai
 * `set_seed`). Without it the global source is seeded at random.
 */
export function setSeed(...seedParts: number[]): void {
  globalRandom = new TensorRandom(...seedParts);
}

/**
 * Runs `build` with a source seeded by `seedParts` as the current one, then puts the previous one back: the
 * weights initialized and the Dropout layers built inside depend on the seed alone. `build` must be synchronous
 * (the scope ends when it returns).
 */
export function withSeed<T>(seedParts: number | readonly number[], build: () => T): T {
  const prev = scoped;
  scoped = new TensorRandom(...(typeof seedParts === 'number' ? [seedParts] : seedParts));
  try {
    return build();
  } finally {
    scoped = prev;
  }
}

/** The current source: the innermost {@link withSeed}'s, else the global one. */
export function tensorRandom(): TensorRandom {
  return scoped ?? globalRandom;
}

/** The next seed of the current source, for one TF.js random op. */
export function nextTensorSeed(): number {
  return tensorRandom().nextSeed();
}

/** A module whose randomness can be restarted from a seed (Dropout). */
export interface Reseedable {
  reseed(...seedParts: number[]): void;
}

function isReseedable(m: unknown): m is Reseedable {
  return typeof (m as Partial<Reseedable>).reseed === 'function';
}

/**
 * Restarts the mask stream of every Dropout layer of `model` (those with a `reseed` method, in module order):
 * layer `k` gets the stream of `[...seedParts, k]`. Data-parallel workers call it with the run's seed, their
 * index and the step, so that their dropout is reproducible whatever happened before.
 */
export function seedDropout(model: Module, ...seedParts: number[]): void {
  let k = 0;
  for (const [, m] of model.namedModules()) {
    if (isReseedable(m)) m.reseed(...seedParts, k++);
  }
}

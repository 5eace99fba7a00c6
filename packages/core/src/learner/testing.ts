/**
 * Test fixtures of the learner area (not exported from the package): a small conv net with fast.ai's head
 * layout and layer groups, and an in-memory data bunch of striped images (class 0: horizontal stripes,
 * class 1: vertical stripes, random phase, period and noise) that such a net learns in a few epochs.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  AdaptiveConcatPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Flatten,
  Linear,
  ReLU,
  Sequential,
  kaimingNormalFanIn,
} from '../nn/index.js';
import { createRng } from '../data/rng.js';
import type { Batch, LearnerData, LearnerDataLoader } from './data.js';
import type { Module } from '../nn/index.js';

/** An in-memory loader over fixed images (NHWC float32 values) and labels. */
export class ArrayLoader implements LearnerDataLoader {
  readonly items: string[];
  constructor(
    readonly images: Float32Array[],
    readonly labels: number[],
    readonly size: number,
    readonly bs: number,
    readonly shuffle = false,
    readonly seed = 1,
  ) {
    this.items = labels.map((l, i) => `item${i}_${l}.png`);
  }
  get length(): number {
    return Math.ceil(this.labels.length / this.bs);
  }
  private pass = 0;
  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    const n = this.labels.length;
    const order = Array.from({ length: n }, (_, i) => i);
    if (this.shuffle) {
      const r = createRng(this.seed + this.pass++);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
    }
    const per = this.size * this.size * 3;
    for (let b = 0; b < this.length; b++) {
      const idx = order.slice(b * this.bs, (b + 1) * this.bs);
      const buf = new Float32Array(idx.length * per);
      idx.forEach((i, k) => buf.set(this.images[i]!, k * per));
      yield {
        x: tf.tensor4d(buf, [idx.length, this.size, this.size, 3]),
        y: tf.tensor1d(
          idx.map((i) => this.labels[i]!),
          'int32',
        ),
        indices: idx,
      };
    }
  }
}

/** One striped image, values roughly in [-1, 1]. */
function stripes(horizontal: boolean, size: number, r: () => number): Float32Array {
  const out = new Float32Array(size * size * 3);
  const period = 3 + Math.floor(r() * 4);
  const phase = r() * period;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = horizontal ? y : x;
      const v = Math.sin(((t + phase) / period) * 2 * Math.PI);
      for (let c = 0; c < 3; c++) out[(y * size + x) * 3 + c] = 0.8 * v + 0.4 * (r() - 0.5);
    }
  }
  return out;
}

/** A data bunch of striped images: `nTrain`/`nValid` items, half per class, plus an optional test set. */
export function stripesData(
  opts: { nTrain?: number; nValid?: number; nTest?: number; size?: number; bs?: number; seed?: number } = {},
): LearnerData & { testDl?: ArrayLoader } {
  const size = opts.size ?? 12;
  const bs = opts.bs ?? 8;
  const r = createRng(opts.seed ?? 42);
  const make = (n: number) => {
    const labels = Array.from({ length: n }, (_, i) => i % 2);
    return { images: labels.map((l) => stripes(l === 0, size, r)), labels };
  };
  const tr = make(opts.nTrain ?? 64);
  const va = make(opts.nValid ?? 24);
  const te = opts.nTest ? make(opts.nTest) : undefined;
  return {
    classes: ['horizontal', 'vertical'],
    c: 2,
    trainDl: new ArrayLoader(tr.images, tr.labels, size, bs, true, opts.seed ?? 42),
    validDl: new ArrayLoader(va.images, va.labels, size, bs),
    ...(te
      ? {
          testDl: new ArrayLoader(
            te.images,
            te.labels.map(() => -1),
            size,
            bs,
          ),
        }
      : {}),
  };
}

/**
 * A small "pretrained body + fast.ai head" net with three layer groups: [stem], [block], [head]. Its BatchNorm
 * momentum is 0.3 so that running statistics settle within the few batches of a unit test.
 */
export function tinyNet(c = 2): { model: Sequential; layerGroups: Module[][]; body: Sequential; head: Sequential } {
  const stem = new Sequential(
    new Conv2d(3, 8, 3, { padding: 1, bias: false }),
    new BatchNorm2d(8, { momentum: 0.3 }),
    new ReLU(),
  );
  const block = new Sequential(
    new Conv2d(8, 16, 3, { padding: 1, stride: 2, bias: false }),
    new BatchNorm2d(16, { momentum: 0.3 }),
    new ReLU(),
  );
  const body = new Sequential(stem, block);
  const head = new Sequential(
    new AdaptiveConcatPool2d(),
    new Flatten(),
    new BatchNorm1d(32, { momentum: 0.3 }),
    new Dropout(0.25),
    new Linear(32, 16, { init: kaimingNormalFanIn }),
    new ReLU(),
    new BatchNorm1d(16, { momentum: 0.3 }),
    new Dropout(0.5),
    new Linear(16, c, { init: kaimingNormalFanIn }),
  );
  const model = new Sequential(body, head);
  return { model, layerGroups: [[stem], [block], [head]], body, head };
}

/**
 * The engines `npm run bench` compares. Each measures some of the three phases (training unfrozen, training
 * frozen, inference) of the same model, batch and image size, once per repetition; the benchmark interleaves the
 * engines' repetitions (A B A B ...) so that a load that changes during the job hits every engine alike.
 *
 * A third engine (e.g. onnxruntime-node on the torchvision graph, inference only) implements {@link Engine} with
 * `phases: ['inference']` and is added to the list in run.ts.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { DataParallelTrainer, type RawBatch } from '@fastts/node-gpu/platform';
import { runTorchBaseline } from './torch-baseline.js';

/** The phases a repetition measures. */
export const PHASES = ['trainUnfrozen', 'trainFrozen', 'inference'] as const;
export type Phase = (typeof PHASES)[number];
export const PHASE_LABELS: Record<Phase, string> = {
  trainUnfrozen: 'train unfrozen',
  trainFrozen: 'train frozen',
  inference: 'inference',
};

/** What every engine measures: the same model, batch and image size. */
export interface Workload {
  arch: string;
  bs: number;
  size: number;
  /** Timed steps per phase and repetition (after one warm-up step). */
  steps: number;
}

/** One repetition of one engine: img/s per phase (wall clock), CPU seconds per image where known. */
export interface Repetition {
  imgPerSec: Partial<Record<Phase, number>>;
  cpuSecPerImg?: Partial<Record<Phase, number>>;
  /** 1-minute load average when the repetition ended. */
  load: number;
  seconds: number;
  note?: string;
}

export interface Engine {
  /** Short name (JSON key). */
  name: string;
  /** One line: what runs (library, version, threads). Set by start(). */
  description: string;
  phases: readonly Phase[];
  start(): Promise<void>;
  /** One repetition of the given phases (default: all the engine measures). */
  run(phases?: readonly Phase[]): Promise<Repetition>;
  stop(): Promise<void>;
}

/** PyTorch through shared/bench/torch_cpu_baseline.py: a fresh process per repetition. */
export class TorchEngine implements Engine {
  readonly phases = PHASES;
  description = 'PyTorch (shared/bench/torch_cpu_baseline.py)';

  /**
   * @param name the JSON key: `torch` (the reference the ratios use), or e.g. `torchKeptMemory` for a variant
   * @param env extra environment of the Python process (e.g. torch-baseline.ts' `TORCH_KEPT_MEMORY_ENV`)
   */
  constructor(
    private readonly python: string,
    private readonly w: Workload,
    readonly name = 'torch',
    private readonly env?: Record<string, string>,
  ) {}

  async start(): Promise<void> {}

  async run(_phases: readonly Phase[] = PHASES): Promise<Repetition> {
    const env = this.env ? { ...process.env, ...this.env } : undefined;
    const t = await runTorchBaseline(this.python, this.w.arch, this.w.bs, this.w.steps, env);
    const envText = this.env
      ? `${Object.entries(this.env)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')} `
      : '';
    this.description = `PyTorch ${t.version}, ${t.threads} threads (${envText}${this.python} shared/bench/torch_cpu_baseline.py)`;
    return {
      imgPerSec: { trainUnfrozen: t.trainUnfrozen, trainFrozen: t.trainFrozen, inference: t.inference },
      load: loadavg()[0]!,
      seconds: t.seconds,
    };
  }

  async stop(): Promise<void> {}
}

/** The frozen-body rule of the PyTorch script (fast.ai's train_bn=True): BatchNorm parameters and the head. */
const frozenTrainable = (name: string): boolean =>
  /(^|\.)fc\./.test(name) || /bn\d*\./.test(name) || name.includes('downsample.1.');

/** Options of the fastts engine: how the trainer lays out its workers. */
export interface FasttsLayout {
  workers: number;
  threadsPerWorker: number;
  microBatch: number;
}

/** fastts' data-parallel trainer on the CPU (wasm replicas on worker threads), kept alive across repetitions. */
export class FasttsEngine implements Engine {
  readonly name = 'fastts';
  readonly phases = PHASES;
  description = 'fastts';
  private trainer: DataParallelTrainer | null = null;
  private batch: RawBatch | null = null;
  /** Worker tensors and heap sizes after each phase of the last repetition (a leak shows as growth). */
  memory: Array<{ phase: string; numTensors: number[]; heapMb: number[] }> = [];

  constructor(
    private readonly w: Workload,
    private readonly layout: FasttsLayout,
  ) {}

  async start(): Promise<void> {
    const t0 = performance.now();
    this.trainer = await DataParallelTrainer.create({
      model: { module: '@fastts/core/models', export: 'createModel', args: [this.w.arch, { numClasses: 2 }] },
      workers: this.layout.workers,
      threadsPerWorker: this.layout.threadsPerWorker,
      microBatch: this.layout.microBatch,
    });
    const { bs, size } = this.w;
    const x = tf.randomNormal([bs, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.tensor1d(
      Array.from({ length: bs }, (_, i) => i % 2),
      'int32',
    );
    this.batch = { x: (await x.data()) as Float32Array, shape: [bs, size, size, 3], y: (await y.data()) as Int32Array };
    tf.dispose([x, y]);
    const native = (await this.trainer.stats())[0]?.nativeConvolutions;
    this.description =
      `${this.layout.workers} data-parallel replica${this.layout.workers === 1 ? '' : 's'} x ${this.layout.threadsPerWorker} thread${this.layout.threadsPerWorker === 1 ? '' : 's'} (wasm + SIMD${native ? `, native convolutions: ${native}` : ''}), ` +
      `micro-batch ${this.layout.microBatch}; workers ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
  }

  /** Wall seconds and process CPU seconds (all threads) of `steps` runs after a warm-up run. */
  private async time(body: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
    await body(); // warm-up: weight packing, heap growth, the first step of new trainable sets
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < this.w.steps; i++) await body();
    const c = process.cpuUsage(c0);
    return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
  }

  async run(phases: readonly Phase[] = PHASES): Promise<Repetition> {
    const trainer = this.trainer!;
    const batch = this.batch!;
    const hyper = { lr: 1e-3, wd: 0.01 };
    const frozen = trainer.params.filter(frozenTrainable);
    const bodies: Record<Phase, () => Promise<unknown>> = {
      trainUnfrozen: () => trainer.step(batch, undefined, { hyper }),
      trainFrozen: () => trainer.step(batch, undefined, { trainable: frozen, hyper }),
      inference: () => trainer.predict(batch),
    };
    const images = this.w.bs * this.w.steps;
    const rep: Repetition = { imgPerSec: {}, cpuSecPerImg: {}, load: 0, seconds: 0 };
    const t0 = performance.now();
    this.memory = [];
    for (const phase of phases) {
      const t = await this.time(bodies[phase]);
      rep.imgPerSec[phase] = images / t.wall;
      rep.cpuSecPerImg![phase] = t.cpu / images;
      const stats = await trainer.stats();
      this.memory.push({
        phase: `after ${PHASE_LABELS[phase]}`,
        numTensors: stats.map((s) => s.numTensors),
        heapMb: stats.map((s) => Math.round(s.heapBytes / 2 ** 20)),
      });
    }
    rep.seconds = (performance.now() - t0) / 1000;
    rep.load = loadavg()[0]!;
    return rep;
  }

  async stop(): Promise<void> {
    await this.trainer?.dispose();
    this.trainer = null;
  }
}

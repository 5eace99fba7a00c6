/**
 * `npm run bench:gpu`: training and inference throughput on WebGPU through Dawn, tfjs-backend-webgpu's kernels
 * ("before") against fastts' WGSL kernels ("after"), plus the per-kernel table of one training step. Ends with one
 * JSON line. On SwiftShader (no GPU) use small sizes — the numbers are a smoke test of relative speed only.
 *
 * Usage: tsx scripts/gpu-check/bench-gpu.ts [--arch resnet34] [--size 224] [--bs 64] [--iters 5] [--warmup 2]
 *        [--reps 3] [--skip model|kernels]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropyLoss } from '@fastts/core';
import { createModel } from '@fastts/core/models';
import { registerWebgpuKernels, unregisterWebgpuKernels } from '@fastts/core/kernels/webgpu';
import { tryDawnWebgpu } from '../../packages/node-gpu/src/backend/gpu/index.js';
import { benchResnet34, type BenchResult } from './bench.js';
import { formatProfile, profileKernels, recordCalls, type KernelProfileRow } from './kernel-profile.js';

/** What the JSON line holds. */
export interface GpuBenchReport {
  adapter: string;
  arch: string;
  size: number;
  batchSize: number;
  before?: BenchResult[];
  after?: BenchResult[];
  kernels?: KernelProfileRow[];
}

/** Runs the benchmark on the active webgpu backend; `log` gets the human-readable lines. */
export async function runGpuBench(
  o: { arch: string; size: number; bs: number; iters: number; warmup: number; reps: number; skip: Set<string> },
  adapter: string,
  log: (s: string) => void,
): Promise<GpuBenchReport> {
  const report: GpuBenchReport = { adapter, arch: o.arch, size: o.size, batchSize: o.bs };
  const opts = { arch: o.arch, size: o.size, batchSize: o.bs, iterations: o.iters, warmup: o.warmup };
  if (!o.skip.has('model')) {
    unregisterWebgpuKernels();
    report.before = await benchResnet34({ ...opts, log: (s) => log(`  tfjs kernels   ${o.arch} ${s}`) });
    registerWebgpuKernels();
    report.after = await benchResnet34({ ...opts, log: (s) => log(`  fastts kernels ${o.arch} ${s}`) });
    log('mode            tfjs img/s  fastts img/s  speed-up');
    for (const [i, b] of report.before.entries()) {
      const a = report.after[i]!;
      log(
        `${b.mode.padEnd(16)}${String(b.imagesPerSecond).padStart(10)}  ${String(a.imagesPerSecond).padStart(12)}  ${(a.imagesPerSecond / b.imagesPerSecond).toFixed(2)}x`,
      );
    }
  }
  if (!o.skip.has('kernels')) {
    registerWebgpuKernels();
    const model = createModel(o.arch, { numClasses: 10 });
    model.train();
    const x = tf.randomUniform([o.bs, o.size, o.size, 3], -2, 2, 'float32', 1);
    const y = tf.randomUniform([o.bs], 0, 10, 'int32', 2) as tf.Tensor1D;
    const lossFn = crossEntropyLoss();
    const vars = model.namedParameters().map(([, v]) => v);
    const calls = await recordCalls(async () => {
      const { value, grads } = tf.variableGrads(() => lossFn(model.forward(x as tf.Tensor4D), y) as tf.Scalar, vars);
      await value.data();
      tf.dispose([value, ...Object.values(grads)]);
    });
    tf.dispose([x, y]);
    model.dispose();
    report.kernels = await profileKernels(calls, o.reps);
    log(`per-kernel time of one ${o.arch} training step (${o.size} px, batch ${o.bs}), wall time to onSubmittedWorkDone:`);
    log(formatProfile(report.kernels));
  }
  return report;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      arch: { type: 'string', default: 'resnet34' },
      size: { type: 'string', default: '224' },
      bs: { type: 'string', default: '64' },
      iters: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '2' },
      reps: { type: 'string', default: '3' },
      skip: { type: 'string', default: '' },
    },
  });
  const r = await tryDawnWebgpu();
  if (!r.ok) throw r.error;
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(
    `bench:gpu on ${r.description}${r.adapter?.isFallbackAdapter ? ' — software adapter: a smoke test of relative speed only' : ''}`,
  );
  const report = await runGpuBench(
    {
      arch: values.arch!,
      size: Number(values.size),
      bs: Number(values.bs),
      iters: Number(values.iters),
      warmup: Number(values.warmup),
      reps: Number(values.reps),
      skip: new Set(values.skip!.split(',').filter(Boolean)),
    },
    r.description,
    log,
  );
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (process.argv[1]?.endsWith('bench-gpu.ts')) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`bench:gpu: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(2);
    },
  );
}

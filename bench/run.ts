/**
 * `npm run bench`: fastts on the CPU against PyTorch on the same machine, in the same job.
 *
 *   npm run bench -- [--arch resnet34] [--bs 16] [--size 224] [--steps 3] [--workers N] [--micro-batch M]
 *                    [--torch-runs 2] [--skip-torch] [--skip-cpu-time] [--skip-pipeline]
 *
 * The PyTorch baseline runs before and after fastts (`--torch-runs 2`, the default) and the ratios use the mean
 * of its runs, so that a load that changes during the job (the machine may be shared) biases neither side.
 * Wall-clock img/s on a loaded machine say little about an idle one: a second table compares CPU seconds per
 * image (process CPU time of all threads; PyTorch through bench/torch_cpu_time.py with OpenMP threads not
 * spinning), a load-independent estimate of the ratio on an idle machine with as many cores.
 *
 * Measures resnet34 (body + linear head, 2 classes, as shared/bench/torch_cpu_baseline.py) at 224 px, batch 16:
 * training unfrozen, training frozen (only BatchNorm parameters and the head trainable, BatchNorm in train mode),
 * and inference; plus the input pipeline (packages/node-gpu/bench/input-pipeline.ts) and the peak RSS.
 * fastts trains data-parallel on worker threads (one wasm/XNNPACK replica per core); the main thread only posts
 * batches. Its last output line is one JSON object with the img/s figures and the fastts/PyTorch ratios.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DataParallelTrainer } from '@fastts/node-gpu/platform';
import { setupBackend } from '@fastts/node-gpu';
import { REPO_ROOT } from '../test-support/shared.js';
import {
  findTorchPython,
  runTorchBaseline,
  runTorchCpuTime,
  TORCH_INSTALL_HINT,
  type TorchCpuTime,
  type TorchResult,
} from './torch-baseline.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
function int(name: string, fallback: number): number {
  const v = Number(arg(name, String(fallback)));
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${arg(name, '')}`);
  return v;
}

const arch = arg('arch', 'resnet34');
const bs = int('bs', 16);
const size = int('size', 224);
const steps = int('steps', 3);
const workers = int('workers', cpus().length);
const microBatch = int('micro-batch', Math.ceil(bs / workers));
const torchRuns = flag('skip-torch') ? 0 : int('torch-runs', 2);

const log = (s: string): void => console.log(s);
const fmt = (v: number | null | undefined, d = 2): string => (v === null || v === undefined ? 'n/a' : v.toFixed(d));
const ratio = (a: number, b: number | undefined): number | null => (b ? +(a / b).toFixed(3) : null);

/** The frozen-body rule of the PyTorch script (fast.ai's train_bn=True): BatchNorm parameters and the head. */
const frozenTrainable = (name: string): boolean => /(^|\.)fc\./.test(name) || /bn\d*\./.test(name) || name.includes('downsample.1.');

/** Wall seconds and process CPU seconds (all threads) of `n` runs after a warm-up run. */
async function timeIt(n: number, body: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  await body(); // warm-up: first-use compilation, weight packing, heap growth
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await body();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

async function inputPipeline(): Promise<{ imgPerSec: number; line: string } | { error: string }> {
  const script = join(REPO_ROOT, 'packages', 'node-gpu', 'bench', 'input-pipeline.ts');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, '--bs', '64', '--size', String(size)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => resolve({ error: e.message }));
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        const j = JSON.parse(last) as { epoch1ImgPerSec?: number };
        if (code === 0 && typeof j.epoch1ImgPerSec === 'number') resolve({ imgPerSec: j.epoch1ImgPerSec, line: last });
        else resolve({ error: `exit ${code}: ${(err || out).trim().split('\n').slice(-2).join(' | ')}` });
      } catch {
        resolve({ error: `exit ${code}: ${(err || out).trim().split('\n').slice(-2).join(' | ')}` });
      }
    });
  });
}

log(`fastts CPU benchmark: ${arch}, ${size} px, batch ${bs}, ${steps} timed steps per measurement`);
log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

// ---- PyTorch ------------------------------------------------------------------------------------------------
const torchPython = torchRuns > 0 ? findTorchPython() : null;
const torchResults: TorchResult[] = [];
async function torchBaseline(when: string): Promise<void> {
  if (!torchPython) return;
  log(`PyTorch reference (${when}): ${torchPython} shared/bench/torch_cpu_baseline.py ${arch} ${bs} ${steps} ...`);
  try {
    const t = await runTorchBaseline(torchPython, arch, bs, steps);
    torchResults.push(t);
    log(
      `  torch ${t.version}, ${t.threads} threads: train unfrozen ${fmt(t.trainUnfrozen)} img/s, ` +
        `train frozen ${fmt(t.trainFrozen)} img/s, inference ${fmt(t.inference)} img/s (${t.seconds.toFixed(0)} s)`,
    );
  } catch (e) {
    log(`  PyTorch reference failed: ${(e as Error).message}`);
  }
}
if (torchRuns === 0) log('PyTorch reference: skipped (--skip-torch)');
else if (!torchPython) log(`PyTorch reference: not available (no Python with torch and torchvision found); ${TORCH_INSTALL_HINT}`);
await torchBaseline('before fastts');

// ---- fastts -----------------------------------------------------------------------------------------------------
const backend = await setupBackend({ log });
log(`fastts: ${workers} data-parallel worker${workers === 1 ? '' : 's'} (wasm, 1 XNNPACK thread each), micro-batch ${microBatch}`);
const t0 = performance.now();
const trainer = await DataParallelTrainer.create({
  model: { module: '@fastts/core/models', export: 'createModel', args: [arch, { numClasses: 2 }] },
  workers,
  microBatch,
});
log(`  workers ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const x = tf.randomNormal([bs, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
const y = tf.tensor1d(Array.from({ length: bs }, (_, i) => i % 2), 'int32');
const batch = { x: (await x.data()) as Float32Array, shape: [bs, size, size, 3] as [number, number, number, number], y: (await y.data()) as Int32Array };
tf.dispose([x, y]);
const hyper = { lr: 1e-3, wd: 0.01 };
const memory: Array<{ phase: string; numTensors: number[]; heapMb: number[] }> = [];
const snap = async (phase: string): Promise<void> => {
  const stats = await trainer.stats();
  memory.push({ phase, numTensors: stats.map((s) => s.numTensors), heapMb: stats.map((s) => Math.round(s.heapBytes / 2 ** 20)) });
};

const images = bs * steps;
const unfrozenT = await timeIt(steps, () => trainer.step(batch, undefined, { hyper }));
await snap('after unfrozen');
const trainUnfrozen = images / unfrozenT.wall;
log(`  train unfrozen: ${fmt(trainUnfrozen)} img/s (${(unfrozenT.wall / steps).toFixed(2)} s/step, ${fmt(unfrozenT.cpu / images, 3)} CPU s/img)`);

const frozen = trainer.params.filter(frozenTrainable);
const frozenT = await timeIt(steps, () => trainer.step(batch, undefined, { trainable: frozen, hyper }));
await snap('after frozen');
const trainFrozen = images / frozenT.wall;
log(
  `  train frozen (${frozen.length} BatchNorm/head tensors trainable): ${fmt(trainFrozen)} img/s ` +
    `(${(frozenT.wall / steps).toFixed(2)} s/step, ${fmt(frozenT.cpu / images, 3)} CPU s/img)`,
);

const inferT = await timeIt(steps, () => trainer.predict(batch));
await snap('after inference');
const inference = images / inferT.wall;
log(`  inference: ${fmt(inference)} img/s (${(inferT.wall / steps).toFixed(2)} s/batch, ${fmt(inferT.cpu / images, 3)} CPU s/img)`);
log(`  per worker tf.memory().numTensors / wasm heap MB: ${memory.map((m) => `${m.phase} [${m.numTensors.join(', ')}] / [${m.heapMb.join(', ')}]`).join('; ')}`);
await trainer.dispose();
const peakRssMb = process.resourceUsage().maxRSS / 1024;

// ---- PyTorch again, and its CPU time ---------------------------------------------------------------------------
if (torchRuns > 1) await torchBaseline('after fastts');
const mean = (f: (t: TorchResult) => number): number | undefined =>
  torchResults.length > 0 ? +(torchResults.reduce((a, t) => a + f(t), 0) / torchResults.length).toFixed(3) : undefined;
const torch =
  torchResults.length > 0
    ? { trainUnfrozen: mean((t) => t.trainUnfrozen)!, trainFrozen: mean((t) => t.trainFrozen)!, inference: mean((t) => t.inference)! }
    : undefined;
let torchCpu: TorchCpuTime | undefined;
if (torchPython && !flag('skip-cpu-time')) {
  log('PyTorch CPU time per image (bench/torch_cpu_time.py, OMP_WAIT_POLICY=PASSIVE) ...');
  try {
    torchCpu = await runTorchCpuTime(torchPython, arch, bs, steps);
  } catch (e) {
    log(`  failed: ${(e as Error).message}`);
  }
}
const fasttsCpu = { trainUnfrozen: unfrozenT.cpu / images, trainFrozen: frozenT.cpu / images, inference: inferT.cpu / images };

// ---- input pipeline -----------------------------------------------------------------------------------------------
let pipeline: number | null = null;
if (flag('skip-pipeline')) {
  log('input pipeline: skipped (--skip-pipeline)');
} else {
  const p = await inputPipeline();
  if ('error' in p) log(`input pipeline: could not run (${p.error})`);
  else {
    pipeline = p.imgPerSec;
    log(`input pipeline (decode + augment, packages/node-gpu/bench/input-pipeline.ts): ${fmt(pipeline)} img/s`);
  }
}

// ---- summary --------------------------------------------------------------------------------------------------
const rows: Array<[string, number, number | undefined]> = [
  ['train unfrozen', trainUnfrozen, torch?.trainUnfrozen],
  ['train frozen', trainFrozen, torch?.trainFrozen],
  ['inference', inference, torch?.inference],
];
log('');
log(`${'img/s (wall)'.padEnd(16)}${'fastts'.padStart(9)}${'PyTorch'.padStart(9)}${'ratio'.padStart(8)}   (PyTorch: mean of ${torchResults.length} run${torchResults.length === 1 ? '' : 's'})`);
for (const [name, mine, theirs] of rows) {
  log(`${name.padEnd(16)}${fmt(mine).padStart(9)}${fmt(theirs).padStart(9)}${fmt(ratio(mine, theirs), 3).padStart(8)}`);
}
const cpuRows: Array<[string, number, number | undefined]> = [
  ['train unfrozen', fasttsCpu.trainUnfrozen, torchCpu?.trainUnfrozen],
  ['train frozen', fasttsCpu.trainFrozen, torchCpu?.trainFrozen],
  ['inference', fasttsCpu.inference, torchCpu?.inference],
];
const cpuRatio = (mine: number, theirs: number | undefined): number | null => (theirs ? +(theirs / mine).toFixed(3) : null);
log('');
log(`${'CPU s/img'.padEnd(16)}${'fastts'.padStart(9)}${'PyTorch'.padStart(9)}${'ratio'.padStart(8)}   (ratio = PyTorch CPU s / fastts CPU s: the load-independent estimate)`);
for (const [name, mine, theirs] of cpuRows) {
  log(`${name.padEnd(16)}${fmt(mine, 3).padStart(9)}${fmt(theirs, 3).padStart(9)}${fmt(cpuRatio(mine, theirs), 3).padStart(8)}`);
}
log(`peak RSS ${peakRssMb.toFixed(0)} MB; load average now ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
if (!torch) log(`(no PyTorch figures: ratios are null; ${TORCH_INSTALL_HINT})`);
console.log(
  JSON.stringify({
    bench: 'resnet-cpu',
    arch,
    size,
    bs,
    steps,
    backend: backend.description,
    workers,
    microBatch,
    fastts_train_unfrozen_img_s: +trainUnfrozen.toFixed(3),
    fastts_train_frozen_img_s: +trainFrozen.toFixed(3),
    fastts_inference_img_s: +inference.toFixed(3),
    torch_runs: torchResults.map((t) => ({ train_unfrozen_img_s: t.trainUnfrozen, train_frozen_img_s: t.trainFrozen, inference_img_s: t.inference })),
    torch_train_unfrozen_img_s: torch?.trainUnfrozen ?? null,
    torch_train_frozen_img_s: torch?.trainFrozen ?? null,
    torch_inference_img_s: torch?.inference ?? null,
    train_unfrozen_ratio: ratio(trainUnfrozen, torch?.trainUnfrozen),
    train_frozen_ratio: ratio(trainFrozen, torch?.trainFrozen),
    inference_ratio: ratio(inference, torch?.inference),
    fastts_cpu_s_per_img: { train_unfrozen: +fasttsCpu.trainUnfrozen.toFixed(4), train_frozen: +fasttsCpu.trainFrozen.toFixed(4), inference: +fasttsCpu.inference.toFixed(4) },
    torch_cpu_s_per_img: torchCpu ? { train_unfrozen: torchCpu.trainUnfrozen, train_frozen: torchCpu.trainFrozen, inference: torchCpu.inference } : null,
    cpu_time_ratios: torchCpu
      ? { train_unfrozen: cpuRatio(fasttsCpu.trainUnfrozen, torchCpu.trainUnfrozen), train_frozen: cpuRatio(fasttsCpu.trainFrozen, torchCpu.trainFrozen), inference: cpuRatio(fasttsCpu.inference, torchCpu.inference) }
      : null,
    load_average: loadavg().map((l) => +l.toFixed(2)),
    input_pipeline_img_s: pipeline,
    peak_rss_mb: +peakRssMb.toFixed(0),
    worker_tensors: memory,
  }),
);

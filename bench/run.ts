/**
 * `npm run bench`: fastts on the CPU against PyTorch on the same machine, in the same job.
 *
 *   npm run bench -- [--arch resnet34] [--bs 16] [--size 224] [--steps 3] [--workers N] [--micro-batch M]
 *                    [--skip-torch] [--skip-pipeline]
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
import { DataParallelTrainer, setupBackend } from '@fastts/node-gpu';
import { REPO_ROOT } from '../test-support/shared.js';
import { findTorchPython, runTorchBaseline, TORCH_INSTALL_HINT, type TorchResult } from './torch-baseline.js';

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

const log = (s: string): void => console.log(s);
const fmt = (v: number | null | undefined, d = 2): string => (v === null || v === undefined ? 'n/a' : v.toFixed(d));
const ratio = (a: number, b: number | undefined): number | null => (b ? +(a / b).toFixed(3) : null);

/** The frozen-body rule of the PyTorch script (fast.ai's train_bn=True): BatchNorm parameters and the head. */
const frozenTrainable = (name: string): boolean => /(^|\.)fc\./.test(name) || /bn\d*\./.test(name) || name.includes('downsample.1.');

async function timeIt(n: number, body: () => Promise<unknown>): Promise<number> {
  await body(); // warm-up: first-use compilation, operator packing, heap growth
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await body();
  return (performance.now() - t0) / 1000;
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
let torch: TorchResult | undefined;
if (flag('skip-torch')) {
  log('PyTorch reference: skipped (--skip-torch)');
} else {
  const py = findTorchPython();
  if (!py) {
    log(`PyTorch reference: not available (no Python with torch and torchvision found); ${TORCH_INSTALL_HINT}`);
  } else {
    log(`PyTorch reference: ${py} shared/bench/torch_cpu_baseline.py ${arch} ${bs} ${steps} ...`);
    try {
      torch = await runTorchBaseline(py, arch, bs, steps);
      log(
        `  torch ${torch.version}, ${torch.threads} threads: train unfrozen ${fmt(torch.trainUnfrozen)} img/s, ` +
          `train frozen ${fmt(torch.trainFrozen)} img/s, inference ${fmt(torch.inference)} img/s (${torch.seconds.toFixed(0)} s)`,
      );
    } catch (e) {
      log(`  PyTorch reference failed: ${(e as Error).message}`);
    }
  }
}

// ---- fastts -----------------------------------------------------------------------------------------------------
const backend = await setupBackend({ log });
log(`fastts: ${workers} data-parallel worker${workers === 1 ? '' : 's'} (wasm, 1 XNNPACK thread each), micro-batch ${microBatch}`);
const t0 = performance.now();
const trainer = await DataParallelTrainer.create({
  model: { module: '@fastts/core', export: 'createModel', args: [arch, { numClasses: 2 }] },
  workers,
  microBatch,
});
log(`  workers ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const x = tf.randomNormal([bs, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
const y = tf.tensor1d(Array.from({ length: bs }, (_, i) => i % 2), 'int32');
const batch = { x: (await x.data()) as Float32Array, shape: [bs, size, size, 3] as [number, number, number, number], y: (await y.data()) as Int32Array };
tf.dispose([x, y]);
const hyper = { lr: 1e-3, wd: 0.01 };
const memory: Array<{ phase: string; numTensors: number[] }> = [];
const snap = async (phase: string): Promise<void> => {
  memory.push({ phase, numTensors: (await trainer.stats()).map((s) => s.numTensors) });
};

const unfrozenSec = await timeIt(steps, () => trainer.step(batch, undefined, { hyper }));
await snap('after unfrozen');
const trainUnfrozen = (bs * steps) / unfrozenSec;
log(`  train unfrozen: ${fmt(trainUnfrozen)} img/s (${(unfrozenSec / steps).toFixed(2)} s/step)`);

const frozen = trainer.params.filter(frozenTrainable);
const frozenSec = await timeIt(steps, () => trainer.step(batch, undefined, { trainable: frozen, hyper }));
await snap('after frozen');
const trainFrozen = (bs * steps) / frozenSec;
log(`  train frozen (${frozen.length} BatchNorm/head tensors trainable): ${fmt(trainFrozen)} img/s (${(frozenSec / steps).toFixed(2)} s/step)`);

const inferSec = await timeIt(steps, () => trainer.predict(batch));
await snap('after inference');
const inference = (bs * steps) / inferSec;
log(`  inference: ${fmt(inference)} img/s (${(inferSec / steps).toFixed(2)} s/batch)`);
log(`  worker tf.memory().numTensors: ${memory.map((m) => `${m.phase} [${m.numTensors.join(', ')}]`).join('; ')}`);
await trainer.dispose();
const peakRssMb = process.resourceUsage().maxRSS / 1024;

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
log(`${'img/s'.padEnd(16)}${'fastts'.padStart(9)}${'PyTorch'.padStart(9)}${'ratio'.padStart(8)}`);
for (const [name, mine, theirs] of rows) {
  log(`${name.padEnd(16)}${fmt(mine).padStart(9)}${fmt(theirs).padStart(9)}${fmt(ratio(mine, theirs), 3).padStart(8)}`);
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
    torch_train_unfrozen_img_s: torch?.trainUnfrozen ?? null,
    torch_train_frozen_img_s: torch?.trainFrozen ?? null,
    torch_inference_img_s: torch?.inference ?? null,
    train_unfrozen_ratio: ratio(trainUnfrozen, torch?.trainUnfrozen),
    train_frozen_ratio: ratio(trainFrozen, torch?.trainFrozen),
    inference_ratio: ratio(inference, torch?.inference),
    input_pipeline_img_s: pipeline,
    peak_rss_mb: +peakRssMb.toFixed(0),
    worker_tensors: memory,
  }),
);

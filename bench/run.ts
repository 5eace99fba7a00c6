/**
 * `npm run bench`: fastts on the CPU against PyTorch on the same machine, in the same job.
 *
 *   npm run bench -- [--arch resnet34] [--bs 16] [--size 224] [--steps 5] [--reps 5] [--workers R]
 *                    [--threads-per-worker T] [--micro-batch M] [--skip-torch] [--skip-pipeline] [--skip-onnx]
 *                    [--onnx-steps 3] [--onnx-reps 7] [--cpu-time] [--skip-torch-kept-memory]
 *   npm run bench -- --scaling [--threads-max N] [--bs B] [--steps 3] [--reps 3]
 *
 * Measures resnet34 (body + linear head, 2 classes, as shared/bench/torch_cpu_baseline.py) at 224 px, batch 16:
 * training unfrozen, training frozen (only BatchNorm parameters and the head trainable, BatchNorm in train mode),
 * and inference. To give the same answer twice on a shared machine:
 * - the engines' repetitions are interleaved (PyTorch, fastts, PyTorch, fastts, …), so that a load that changes
 *   during the job hits both alike; each repetition times `--steps` steps per phase after a warm-up step;
 * - every figure is the median of the repetitions, shown with its min–max; the ratios are ratios of medians;
 * - the load average is printed before, after every repetition and at the end;
 * - the last line is one JSON object with every repetition, the medians and the ratios.
 * fastts trains data-parallel on worker threads (replicas x threads per replica: planWorkers' choice for the cores,
 * one single-threaded replica per core on small machines); the main thread only posts batches.
 * After them, ONNX Runtime (bench/onnx-engine.ts): onnxruntime-node on the torchvision graph against fastts' inference
 * path on Node (its ONNX export run by onnxruntime-node), `--skip-onnx` to leave it out.
 * A second PyTorch engine, interleaved with the others, runs the same script with glibc malloc keeping freed memory
 * (torch-baseline.ts' TORCH_KEPT_MEMORY_ENV; `--skip-torch-kept-memory` leaves it out): on a VM with slow page faults,
 * default PyTorch spends a large and variable share of its time faulting in fresh pages, so both are shown; the
 * headline ratios stay against default PyTorch (the script as it is), `kept_memory_ratios` against the other.
 * `--cpu-time` adds CPU seconds per image of both (PyTorch through bench/torch_cpu_time.py), a load-independent
 * estimate. `--scaling` measures fastts alone with 1, 2, … N threads instead (see scaling.ts).
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setupBackend } from '@fastts/node-gpu';
import { planWorkers } from '@fastts/node-gpu/platform';
import { REPO_ROOT } from '../test-support/shared.js';
import { runJsonScript } from './child.js';
import {
  FasttsEngine,
  PHASE_LABELS,
  PHASES,
  TorchEngine,
  type Engine,
  type Phase,
  type Repetition,
  type Workload,
} from './engines.js';
import { runScaling } from './scaling.js';
import { fmtSpread, jsonSpread, round, spread, table } from './stats.js';
import { formatOnnxEngines, measureOnnxEngines, type OnnxEngineResult } from './onnx-engine.js';
import {
  findTorchPython,
  runTorchCpuTime,
  TORCH_INSTALL_HINT,
  TORCH_KEPT_MEMORY_ENV,
  type TorchCpuTime,
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
const log = (s: string): void => console.log(s);
const loadNow = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

const arch = arg('arch', 'resnet34');
const size = int('size', 224);

if (flag('scaling')) {
  const maxThreads = int('threads-max', cpus().length);
  await runScaling({
    arch,
    size,
    bs: int('bs', Math.max(16, 4 * maxThreads)),
    steps: int('steps', 3),
    reps: int('reps', 3),
    maxThreads,
    log,
  });
  process.exit(0);
}

const w: Workload = { arch, bs: int('bs', 16), size, steps: int('steps', 5) };
const reps = int('reps', 5);
const plan = planWorkers();
const workers = int('workers', plan.workers);
const threadsPerWorker = int('threads-per-worker', flag('workers') ? 1 : plan.threadsPerWorker);
const microBatch = int('micro-batch', Math.ceil(w.bs / workers));

log(
  `fastts CPU benchmark: ${arch}, ${size} px, batch ${w.bs}; ${reps} repetitions x ${w.steps} timed steps per phase, engines interleaved`,
);
log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadNow()}`);

const torchPython = flag('skip-torch') ? null : findTorchPython();
if (flag('skip-torch')) log('PyTorch reference: skipped (--skip-torch)');
else if (!torchPython)
  log(`PyTorch reference: not available (no Python with torch and torchvision found); ${TORCH_INSTALL_HINT}`);
else if (size !== 224)
  log(`note: the PyTorch reference script always runs at 224 px; fastts runs at ${size} px (the ratios compare unlike work)`);

const backend = await setupBackend({ log });
const fastts = new FasttsEngine(w, { workers, threadsPerWorker, microBatch });
// Ratios are taken against default PyTorch; ONNX Runtime runs after these (inference only, in this process).
const engines: Engine[] = [
  ...(torchPython ? [new TorchEngine(torchPython, w)] : []),
  ...(torchPython && !flag('skip-torch-kept-memory')
    ? [new TorchEngine(torchPython, w, 'torchKeptMemory', TORCH_KEPT_MEMORY_ENV)]
    : []),
  fastts,
];
for (const e of engines) await e.start();

const results = new Map<string, Repetition[]>(engines.map((e) => [e.name, []]));
for (let r = 0; r < reps; r++) {
  for (const e of engines) {
    try {
      const rep = await e.run();
      results.get(e.name)!.push(rep);
      const figures = e.phases.map((p) => `${PHASE_LABELS[p]} ${rep.imgPerSec[p]?.toFixed(2) ?? 'n/a'}`).join(', ');
      log(
        `  rep ${r + 1}/${reps} ${e.name.padEnd(7)} ${figures} img/s (${rep.seconds.toFixed(0)} s, load ${rep.load.toFixed(1)})`,
      );
    } catch (err) {
      log(`  rep ${r + 1}/${reps} ${e.name}: failed (${(err as Error).message})`);
    }
  }
}
for (const e of engines) log(`${e.name}: ${e.description}`);
log(
  `  per worker tf.memory().numTensors / wasm heap MB (last repetition): ${fastts.memory.map((m) => `${m.phase} [${m.numTensors.join(', ')}] / [${m.heapMb.join(', ')}]`).join('; ')}`,
);
for (const e of engines) await e.stop();
const peakRssMb = process.resourceUsage().maxRSS / 1024;

// ---- ONNX Runtime, optional CPU time, input pipeline -----------------------------------------------------------
let onnx: OnnxEngineResult | null = null;
if (flag('skip-onnx')) log('ONNX Runtime: skipped (--skip-onnx)');
else {
  try {
    onnx = await measureOnnxEngines({
      arch,
      bs: w.bs,
      size,
      steps: int('onnx-steps', 3),
      reps: int('onnx-reps', 7),
      threads: cpus().length,
      ...(torchPython ? { python: torchPython } : {}),
      log,
    });
  } catch (e) {
    log(`ONNX Runtime: could not run (${(e as Error).message})`);
  }
}

let torchCpu: TorchCpuTime | undefined;
if (torchPython && flag('cpu-time')) {
  log('PyTorch CPU time per image (bench/torch_cpu_time.py, OMP_WAIT_POLICY=PASSIVE) ...');
  try {
    torchCpu = await runTorchCpuTime(torchPython, arch, w.bs, w.steps);
  } catch (e) {
    log(`  failed: ${(e as Error).message}`);
  }
}
let pipeline: number | null = null;
if (flag('skip-pipeline')) log('input pipeline: skipped (--skip-pipeline)');
else {
  const p = await runJsonScript<{ epoch1ImgPerSec: number }>(
    join(REPO_ROOT, 'packages', 'node-gpu', 'bench', 'input-pipeline.ts'),
    ['--bs', '64', '--size', String(size)],
  );
  if ('error' in p) log(`input pipeline: could not run (${p.error})`);
  else {
    pipeline = p.value.epoch1ImgPerSec;
    log(`input pipeline (decode + augment, packages/node-gpu/bench/input-pipeline.ts): ${pipeline.toFixed(2)} img/s`);
  }
}

// ---- summary ----------------------------------------------------------------------------------------------------
const spreads = (name: string, phase: Phase, of: 'imgPerSec' | 'cpuSecPerImg' = 'imgPerSec') =>
  spread((results.get(name) ?? []).map((r) => r[of]?.[phase]).filter((v): v is number => v !== undefined));
/** fastts' median over `reference`'s median (default PyTorch unless named). */
const ratio = (phase: Phase, reference = 'torch'): number | null => {
  const mine = spreads('fastts', phase);
  const theirs = spreads(reference, phase);
  return mine && theirs ? round(mine.median / theirs.median) : null;
};
log('');
log(
  table(
    ['img/s, median (min-max)', 'fastts', 'PyTorch', 'ratio'],
    PHASES.map((p) => [
      PHASE_LABELS[p],
      fmtSpread(spreads('fastts', p)),
      fmtSpread(spreads('torch', p)),
      ratio(p)?.toFixed(3) ?? 'n/a',
    ]),
  ),
);
log(`(ratio = fastts median / PyTorch median, ${reps} interleaved repetitions of ${w.steps} steps each)`);
const kept = results.has('torchKeptMemory');
if (kept) {
  log('');
  log(
    table(
      ['img/s, median (min-max)', 'PyTorch, glibc keeps memory', 'fastts / it'],
      PHASES.map((p) => [
        PHASE_LABELS[p],
        fmtSpread(spreads('torchKeptMemory', p)),
        ratio(p, 'torchKeptMemory')?.toFixed(3) ?? 'n/a',
      ]),
    ),
  );
}
if (onnx) {
  log('');
  for (const line of formatOnnxEngines(onnx)) log(line);
}
if (torchCpu) {
  log('');
  log(
    table(
      ['CPU s/img', 'fastts', 'PyTorch', 'ratio'],
      PHASES.map((p) => {
        const mine = spreads('fastts', p, 'cpuSecPerImg')?.median;
        return [
          PHASE_LABELS[p],
          mine?.toFixed(3) ?? 'n/a',
          torchCpu![p].toFixed(3),
          mine ? (torchCpu![p] / mine).toFixed(3) : 'n/a',
        ];
      }),
    ),
  );
}
log(`peak RSS ${peakRssMb.toFixed(0)} MB; load average now ${loadNow()}`);
if (!torchPython) log(`(no PyTorch figures: ratios are null; ${TORCH_INSTALL_HINT})`);

const engineJson = (name: string) => {
  const reps = results.get(name) ?? [];
  return {
    repetitions: reps.map((r) => ({
      img_s: Object.fromEntries(Object.entries(r.imgPerSec).map(([k, v]) => [k, round(v!)])),
      ...(r.cpuSecPerImg
        ? { cpu_s_per_img: Object.fromEntries(Object.entries(r.cpuSecPerImg).map(([k, v]) => [k, round(v!, 4)])) }
        : {}),
      load: round(r.load, 2),
      seconds: round(r.seconds, 1),
    })),
    img_s: Object.fromEntries(PHASES.map((p) => [p, jsonSpread(spreads(name, p))])),
  };
};
console.log(
  JSON.stringify({
    bench: 'resnet-cpu',
    arch,
    size,
    bs: w.bs,
    steps: w.steps,
    reps,
    backend: backend.description,
    workers,
    threadsPerWorker,
    microBatch,
    engines: Object.fromEntries(engines.map((e) => [e.name, { description: e.description, ...engineJson(e.name) }])),
    train_unfrozen_ratio: ratio('trainUnfrozen'),
    train_frozen_ratio: ratio('trainFrozen'),
    inference_ratio: ratio('inference'),
    onnx_inference_ratio: onnx?.ratio ?? null,
    onnx_pipeline_ratio: onnx?.pipelineRatio ?? null,
    ...(kept
      ? {
          kept_memory_ratios: {
            train_unfrozen: ratio('trainUnfrozen', 'torchKeptMemory'),
            train_frozen: ratio('trainFrozen', 'torchKeptMemory'),
            inference: ratio('inference', 'torchKeptMemory'),
          },
        }
      : {}),
    onnx,
    torch_cpu_s_per_img: torchCpu ?? null,
    input_pipeline_img_s: pipeline,
    peak_rss_mb: +peakRssMb.toFixed(0),
    worker_tensors: fastts.memory,
    load_average: loadavg().map((l) => round(l, 2)),
  }),
);

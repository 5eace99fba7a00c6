/**
 * ONNX Runtime as an inference engine: fastts' ONNX path (its own export of `arch` with fast.ai's head, run by
 * `loadOnnxLearner(...).predictPixels`) against onnxruntime-node on the torchvision graph of the same architecture
 * exported by PyTorch (`torch.onnx.export`, random weights: speed only), both on the CPU execution provider with the
 * same intra-op threads, in one process. Three timings, interleaved:
 * - `torchvision`: `session.run` on an already normalized batch (the model alone, as the issue's reference);
 * - `torchvisionPipeline`: the same from RGB pixels 0..255 to probabilities, as a Node user of that graph runs it:
 *   ImageNet normalization in JavaScript, `session.run`, softmax in JavaScript;
 * - `fastts`: RGB pixels 0..255 to probabilities (normalization and softmax are nodes of fastts' graph).
 *
 *   npx tsx bench/onnx-engine.ts [--arch resnet34] [--bs 16] [--size 224] [--steps 3] [--reps 7] [--threads 2]
 *
 * Each repetition times `steps` batches of every engine, in an order that rotates from one repetition to the next,
 * after a warm-up of each. Ratios are of medians (fastts / torchvision, and fastts / torchvisionPipeline); the
 * per-repetition ratios and every repetition are reported too. `bench/run.ts` calls {@link measureOnnxEngines};
 * run alone, the last output line is JSON.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createCnnModel } from '@fastts/core/platform';
import { getArch, loadOnnxLearner, setupBackend } from '@fastts/node-gpu';
import { loadOnnxRuntime } from '@fastts/node-gpu/platform';
import { toOnnx } from '@fastts/core/onnx';
import { findTorchPython, TORCH_INSTALL_HINT } from './torch-baseline.js';

/** Options of {@link measureOnnxEngines}. */
export interface OnnxEngineOptions {
  /** A torchvision architecture (default `resnet34`). */
  arch?: string;
  bs: number;
  size: number;
  /** Batches timed per repetition. */
  steps: number;
  /** Interleaved repetitions per engine (default 7). */
  reps?: number;
  /** Intra-op threads of both sessions (default 2). */
  threads?: number;
  /** A Python with torch + torchvision (default: {@link findTorchPython}). */
  python?: string;
  log?: (line: string) => void;
}

/** One engine's throughput over the repetitions. */
export interface EngineStats {
  /** img/s of each repetition, in order. */
  imgPerSec: number[];
  median: number;
  min: number;
  max: number;
  /**
   * Median process CPU seconds per image (all threads): with one intra-op thread a load-independent measure of the
   * work; with more it includes ONNX Runtime's spin-waiting.
   */
  cpuSPerImg: number;
}

/** What {@link measureOnnxEngines} measured. */
export interface OnnxEngineResult {
  ortVersion: string;
  arch: string;
  bs: number;
  size: number;
  steps: number;
  reps: number;
  threads: number;
  /** onnxruntime-node on the graph torch.onnx.export wrote, on a normalized batch (the model alone). */
  torchvision: EngineStats;
  /** The same from pixels to probabilities: normalization and softmax in JavaScript around `session.run`. */
  torchvisionPipeline: EngineStats;
  /** fastts' ONNX path on its own export, pixels to probabilities (fast.ai head, preprocessing in the graph). */
  fastts: EngineStats;
  /** median(fastts) / median(torchvision). */
  ratio: number;
  /** median(fastts) / median(torchvisionPipeline): the like-for-like ratio (same input, same output). */
  pipelineRatio: number;
  /** fastts / torchvision of each repetition. */
  repRatios: number[];
  /** fastts / torchvisionPipeline of each repetition. */
  repPipelineRatios: number[];
}

const median = (v: readonly number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const stats = (v: number[], cpu: number[]): EngineStats => ({
  imgPerSec: v.map((x) => +x.toFixed(3)),
  median: +median(v).toFixed(3),
  min: +Math.min(...v).toFixed(3),
  max: +Math.max(...v).toFixed(3),
  cpuSPerImg: +median(cpu).toFixed(5),
});

const EXPORT_SCRIPT = `
import sys, torch, torchvision
arch, size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
torch.manual_seed(0)
model = getattr(torchvision.models, arch)().eval()
torch.onnx.export(model, torch.randn(1, 3, size, size), out, input_names=['input'], output_names=['logits'],
                  dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, opset_version=13)
print(torch.__version__)
`;

/** Softmax of each row of `rows` x (length / rows) logits, in place (what a user of the torchvision graph adds). */
function softmaxRows(logits: Float32Array, rows: number): void {
  const c = logits.length / rows;
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * c, (r + 1) * c);
    const max = row.reduce((a, b) => Math.max(a, b), -Infinity);
    let sum = 0;
    for (let i = 0; i < c; i++) sum += row[i] = Math.exp(row[i]! - max);
    for (let i = 0; i < c; i++) row[i]! /= sum;
  }
}

/** Writes torchvision's `arch` (random weights, eval mode) as ONNX with PyTorch's exporter; resolves with torch's version. */
export function exportTorchvisionOnnx(python: string, arch: string, size: number, file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(python, ['-c', EXPORT_SCRIPT, arch, String(size), file], { timeout: 300_000 }, (err, stdout, stderr) => {
      if (err)
        reject(
          new Error(
            `torch.onnx.export of torchvision ${arch} failed: ${(stderr || err.message).trim().split('\n').slice(-2).join(' | ')}`,
          ),
        );
      else resolve(stdout.trim());
    });
  });
}

/**
 * Measures both engines (see the module comment). Rejects with the reason when onnxruntime-node or PyTorch is
 * missing. Uses the current tfjs backend only to initialize fastts' model before exporting it.
 */
export async function measureOnnxEngines(options: OnnxEngineOptions): Promise<OnnxEngineResult> {
  const arch = options.arch ?? 'resnet34';
  const reps = options.reps ?? 7;
  const threads = options.threads ?? 2;
  const { bs, size, steps } = options;
  const log = options.log ?? (() => undefined);
  if (getArch(arch).family !== 'torchvision-resnet')
    throw new Error(`the ONNX engine benchmark compares torchvision graphs: '${arch}' is not a torchvision ResNet`);
  const ort = await loadOnnxRuntime();
  const python = options.python ?? findTorchPython();
  if (!python) throw new Error(`no Python with torch and torchvision to export the torchvision graph; ${TORCH_INSTALL_HINT}`);
  const dir = mkdtempSync(join(tmpdir(), 'fastts-onnx-bench-'));
  try {
    const tvFile = join(dir, `torchvision-${arch}.onnx`);
    const torchVersion = await exportTorchvisionOnnx(python, arch, size, tvFile);
    const fasttsFile = join(dir, `fastts-${arch}.onnx`);
    const model = createCnnModel(arch, 2);
    try {
      writeFileSync(
        fasttsFile,
        await toOnnx(model, { classes: ['a', 'b'], size, preprocessing: getArch(arch).preprocessing, arch }),
      );
    } finally {
      model.dispose();
    }
    const sessionOptions = {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all' as const,
    };
    const tv = await ort.InferenceSession.create(new Uint8Array(readFileSync(tvFile)), sessionOptions);
    const fastts = await loadOnnxLearner(fasttsFile, { device: 'cpu', threads });
    log(
      `ONNX engines: onnxruntime-node ${ort.env.versions?.node ?? '?'}, CPU provider, ${threads} intra-op threads; torchvision ${arch} via torch ${torchVersion} torch.onnx.export vs fastts' export (fast.ai head)`,
    );
    const n = bs * 3 * size * size;
    const pixels = new Float32Array(n).map(() => Math.random() * 255);
    const normalized = new Float32Array(n);
    const { scale, offset } = getArch(arch).preprocessing;
    const plane = size * size;
    const normalize = (): void => {
      for (let start = 0, c = 0; start < n; start += plane, c = (c + 1) % 3) {
        const [k, b] = [scale[c]!, offset[c]!];
        for (let i = start; i < start + plane; i++) normalized[i] = pixels[i]! * k + b;
      }
    };
    normalize();
    const tvRun = async (): Promise<Float32Array> =>
      (await tv.run({ [tv.inputNames[0]!]: new ort.Tensor('float32', normalized, [bs, 3, size, size]) }))[tv.outputNames[0]!]!
        .data as Float32Array;
    const engines = {
      torchvision: async () => void (await tvRun()),
      torchvisionPipeline: async () => {
        normalize();
        softmaxRows(await tvRun(), bs);
      },
      fastts: async () => void (await fastts.predictPixels(pixels, bs)),
    };
    type Engine = keyof typeof engines;
    const names = Object.keys(engines) as Engine[];
    const runs: Record<Engine, number[]> = { torchvision: [], torchvisionPipeline: [], fastts: [] };
    const cpu: Record<Engine, number[]> = { torchvision: [], torchvisionPipeline: [], fastts: [] };
    try {
      for (const run of Object.values(engines)) for (let i = 0; i < 2; i++) await run(); // warm-up: weight packing, arenas
      for (let rep = 0; rep < reps; rep++) {
        for (const name of names.map((_, i) => names[(i + rep) % names.length]!)) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          for (let s = 0; s < steps; s++) await engines[name]();
          runs[name].push((bs * steps) / ((performance.now() - t0) / 1000));
          const c = process.cpuUsage(c0);
          cpu[name].push((c.user + c.system) / 1e6 / (bs * steps));
        }
        log(`  rep ${rep + 1}/${reps}: ${names.map((k) => `${k} ${runs[k].at(-1)!.toFixed(2)}`).join(', ')} img/s`);
      }
    } finally {
      await tv.release();
      await fastts.dispose();
    }
    const t = stats(runs.torchvision, cpu.torchvision);
    const p = stats(runs.torchvisionPipeline, cpu.torchvisionPipeline);
    const f = stats(runs.fastts, cpu.fastts);
    return {
      ortVersion: ort.env.versions?.node ?? '?',
      arch,
      bs,
      size,
      steps,
      reps,
      threads,
      torchvision: t,
      torchvisionPipeline: p,
      fastts: f,
      ratio: +(f.median / t.median).toFixed(3),
      pipelineRatio: +(f.median / p.median).toFixed(3),
      repRatios: runs.fastts.map((v, i) => +(v / runs.torchvision[i]!).toFixed(3)),
      repPipelineRatios: runs.fastts.map((v, i) => +(v / runs.torchvisionPipeline[i]!).toFixed(3)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The result as table lines (img/s median and range per engine, the ratios). */
export function formatOnnxEngines(r: OnnxEngineResult): string[] {
  const row = (name: string, s: EngineStats): string =>
    `${name.padEnd(40)}${s.median.toFixed(2).padStart(9)}   [${s.min.toFixed(2)}, ${s.max.toFixed(2)}]`.padEnd(70) +
    s.cpuSPerImg.toFixed(4).padStart(9);
  return [
    `${'inference img/s (ONNX Runtime)'.padEnd(40)}${'median'.padStart(9)}   [min, max]`.padEnd(70) +
      `${'CPU s/img'.padStart(9)}   (${r.reps} interleaved reps x ${r.steps} batches of ${r.bs}, ${r.threads} threads)`,
    row(`torchvision ${r.arch}, model only`, r.torchvision),
    row(`torchvision ${r.arch}, pixels -> probs`, r.torchvisionPipeline),
    row(`fastts ${r.arch} + head, pixels -> probs`, r.fastts),
    `ratio fastts / torchvision model only: ${r.ratio.toFixed(3)} (of medians; per rep ${r.repRatios.join(' ')})`,
    `ratio fastts / torchvision pixels -> probs: ${r.pipelineRatio.toFixed(3)} (of medians; per rep ${r.repPipelineRatios.join(' ')})`,
  ];
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--arch');
  const arch = i >= 0 ? process.argv[i + 1]! : 'resnet34';
  const log = (s: string): void => console.log(s);
  log(
    `machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  await setupBackend({ backend: 'wasm' });
  const r = await measureOnnxEngines({
    arch,
    bs: arg('bs', 16),
    size: arg('size', 224),
    steps: arg('steps', 3),
    reps: arg('reps', 7),
    threads: arg('threads', 2),
    log,
  });
  for (const line of formatOnnxEngines(r)) log(line);
  log(
    `load average now ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(JSON.stringify({ bench: 'onnx-engines', ...r, load_average: loadavg().map((l) => +l.toFixed(2)) }));
}

/**
 * The GPU-machine check (bundled by prepare.ts, run by run.sh where there is no Node install and no network):
 *  1. what the machine offers: NVIDIA driver/GPU/CUDA libraries, and why CUDA through tfjs-node-gpu cannot run
 *     here (the package and its libtensorflow cannot be installed offline);
 *  2. WebGPU through Dawn (`webgpu`'s dawn.node) on the Vulkan driver: the adapter must be a hardware one;
 *  3. the conformance suite on it (fixtures from the prepared pack, reference: tfjs' cpu backend);
 *  4. the ResNet-34 benchmark on it (inference, training unfrozen and frozen), with tfjs-backend-webgpu's kernels
 *     and with fastts' WGSL kernels, and the per-kernel table of one training step (bench-gpu.ts).
 * Writes `results.json` and `results.txt` into the output folder (argv --out, default $OUT).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { hasGpuDeviceNode, probeCudaSystem, tryCuda, tryDawnWebgpu } from '../../packages/node-gpu/src/backend/gpu/index.js';
import { loadFixtures } from '../../tests/conformance/fixtures.js';
import { PackedData } from '../../tests/conformance/packed.js';
import { formatReport, runConformance, type ConformanceReport } from '../../tests/conformance/suite.js';
import { runGpuBench, type GpuBenchReport } from './bench-gpu.js';

interface Results {
  startedAt: string;
  node: string;
  tfjs: string;
  machine: { cudaProbe: ReturnType<typeof probeCudaSystem>; gpuDeviceNode: boolean; env: Record<string, string> };
  cuda: { ok: boolean; message: string };
  webgpu: { ok: boolean; message: string; adapter?: unknown; hardware?: boolean };
  conformance?: ConformanceReport;
  bench?: GpuBenchReport[];
  errors: string[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: process.env.OUT ?? '.' },
      pack: { type: 'string' },
      skip: { type: 'string', default: '' },
      'bench-bs': { type: 'string', default: '64' },
      'bench-size': { type: 'string', default: '224' },
      'bench-arch': { type: 'string', default: 'resnet34' },
      /** For trying the script on a machine without a GPU (SwiftShader: slow). */
      'allow-fallback': { type: 'boolean', default: false },
    },
  });
  const out = values.out!;
  const skip = new Set(values.skip!.split(',').filter(Boolean));
  const lines: string[] = [];
  const log = (s: string) => {
    lines.push(s);
    process.stderr.write(`${s}\n`);
  };
  const results: Results = {
    startedAt: new Date().toISOString(),
    node: process.version,
    tfjs: tf.version_core,
    machine: {
      cudaProbe: probeCudaSystem(),
      gpuDeviceNode: hasGpuDeviceNode(),
      env: Object.fromEntries(
        Object.entries(process.env).filter(([k]) => /^(VK_|LD_LIBRARY_PATH|NVIDIA_|CUDA_)/.test(k)) as [string, string][],
      ),
    },
    cuda: { ok: false, message: '' },
    webgpu: { ok: false, message: '' },
    errors: [],
  };
  const save = () => {
    writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2));
    writeFileSync(join(out, 'results.txt'), `${lines.join('\n')}\n`);
  };
  log(`node ${process.version}, tfjs-core ${tf.version_core}`);
  log(
    `NVIDIA: driver ${results.machine.cudaProbe.driver ?? 'none'}; GPUs ${results.machine.cudaProbe.gpus.join(', ') || 'none'}`,
  );
  log(`CUDA 11.2/cuDNN 8.1 libraries missing: ${results.machine.cudaProbe.missingLibraries.join(', ') || 'none'}`);

  // 1. CUDA: tfjs-node-gpu is not part of this bundle (its install script downloads libtensorflow: impossible offline).
  const cuda = await tryCuda();
  results.cuda = { ok: cuda.ok, message: cuda.ok ? cuda.description : cuda.error.message };
  log(`cuda: ${cuda.ok ? 'OK ' : 'not available: '}${results.cuda.message}`);

  // 2. WebGPU through Dawn, hardware adapter required (as `auto` would); if none, say what Dawn does find.
  // Always ask Dawn (no device-node shortcut): here we want its answer, whatever the container shows in /dev.
  const hw = await tryDawnWebgpu({ requireHardware: !values['allow-fallback'], hasGpuDevice: () => true });
  if (hw.ok) {
    results.webgpu = { ok: true, message: hw.description, adapter: hw.adapter, hardware: !hw.adapter?.isFallbackAdapter };
  } else {
    const any = await tryDawnWebgpu();
    results.webgpu = {
      ok: false,
      message: `${hw.error.message}${any.ok ? ` (Dawn only offers: ${any.description})` : ''}`,
      adapter: hw.adapter ?? (any.ok ? any.adapter : undefined),
      hardware: false,
    };
  }
  log(`webgpu: ${results.webgpu.ok ? 'OK ' : 'not available: '}${results.webgpu.message}`);
  save();
  if (!results.webgpu.ok) {
    process.exitCode = 1;
    return;
  }

  // 3. Conformance on the hardware adapter.
  if (!skip.has('conformance')) {
    try {
      if (!values.pack) throw new Error('--pack <pack.bin> is required for the conformance suite');
      const pack = new PackedData(new Uint8Array(readFileSync(values.pack)));
      const fixtures = await loadFixtures(pack);
      const report = await runConformance(fixtures, { backend: 'webgpu', log: (s) => log(`  ${s}`) });
      report.env = { adapter: results.webgpu.adapter };
      results.conformance = report;
      log(formatReport(report));
    } catch (e) {
      results.errors.push(`conformance: ${(e as Error).stack ?? e}`);
      log(`conformance failed to run: ${(e as Error).message}`);
    }
    save();
  }

  // 4. ResNet-34 benchmark: tfjs' kernels, then fastts' (the per-kernel table at the last batch size).
  if (!skip.has('bench')) {
    results.bench = [];
    await tf.setBackend('webgpu');
    const sizes = values['bench-bs']!.split(',').map(Number);
    for (const [i, bs] of sizes.entries()) {
      try {
        const o = { arch: values['bench-arch']!, size: Number(values['bench-size']), bs, iters: 5, warmup: 2, reps: 3 };
        const skipParts = new Set(i === sizes.length - 1 && !skip.has('kernels') ? [] : ['kernels']);
        results.bench.push(await runGpuBench({ ...o, skip: skipParts }, results.webgpu.message, (s) => log(`  ${s}`)));
      } catch (e) {
        results.errors.push(`bench bs ${bs}: ${(e as Error).stack ?? e}`);
        log(`${values['bench-arch']} bs ${bs} failed: ${(e as Error).message}`);
      }
      save();
    }
  }
  save();
  process.exitCode = results.conformance?.ok === false || results.errors.length > 0 ? 1 : 0;
}

main().then(
  () => process.exit(),
  (e: unknown) => {
    process.stderr.write(`gpu-check: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);

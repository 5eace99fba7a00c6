/**
 * Inference throughput of a zoo model on the tfjs wasm backend (XNNPACK), next to PyTorch's CPU baseline
 * measured in the same run (shared/bench/torch_cpu_baseline.py, `infer_img_per_s`).
 *
 *   npx tsx packages/core/bench/forward.bench.ts [arch=resnet34] [batch=16] [steps=3] [--no-torch]
 *
 * Env: FASTTS_SHARED (shared folder), PYTHON (default /usr/bin/python3.11 when present).
 * Wall-clock img/s is the headline (as the torch script reports); img per CPU-second shows the compute cost
 * independent of other load on the machine (the wasm backend runs on one thread).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_DIR } from '../../../test-support/shared.js';
import { createModel } from '../src/models/registry.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const arch = args[0] ?? 'resnet34';
const bs = Number(args[1] ?? 16);
const steps = Number(args[2] ?? 3);
const withTorch = !process.argv.includes('--no-torch');

async function main(): Promise<void> {
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend unavailable');
  const model = createModel(arch, { numClasses: 2 }).eval();
  const x = tf.randomNormal([bs, 224, 224, 3]) as tf.Tensor4D;
  const run = async (): Promise<void> => {
    const y = model.forward(x);
    await y.data();
    y.dispose();
  };
  await run(); // warm-up (XNNPACK operator setup)
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    await run();
    times.push((performance.now() - t) / 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const best = Math.min(...times);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const tfjs = bs / mean;
  console.log(
    `tfjs ${tf.version_core} backend=${tf.getBackend()} arch=${arch} bs=${bs} steps=${steps} ` +
      `infer_img_per_s=${tfjs.toFixed(2)} (best ${(bs / best).toFixed(2)}; per-step s: ${times.map((t) => t.toFixed(2)).join(', ')}; ` +
      `img per CPU-second ${((bs * steps) / cpuSeconds).toFixed(2)})`,
  );
  tf.dispose(x);
  model.dispose();
  if (!withTorch) return;
  const python = process.env.PYTHON ?? (existsSync('/usr/bin/python3.11') ? '/usr/bin/python3.11' : 'python3.11');
  const script = join(SHARED_DIR, 'bench', 'torch_cpu_baseline.py');
  const out = execFileSync(python, [script, arch, String(bs), String(steps)], { encoding: 'utf8' });
  process.stdout.write(out);
  const torchInfer = Number(/infer_img_per_s=([\d.]+)/.exec(out)?.[1]);
  console.log(
    `ratio tfjs/torch inference = ${(tfjs / torchInfer).toFixed(3)} (torch is ${(torchInfer / tfjs).toFixed(1)}x faster)`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});

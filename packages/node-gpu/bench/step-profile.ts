/**
 * Where one training step's time goes on a single-threaded wasm replica (what each data-parallel worker runs):
 * kernel time per kernel kind and layer shape, from tf.profile.
 *
 *   npx tsx packages/node-gpu/bench/step-profile.ts [--arch resnet34] [--bs 8] [--size 224] [--frozen | --eval] [--top 30]
 *
 * `--eval` profiles inference instead: the model in eval mode, forward only (what a worker's `predict` runs).
 *
 * Native convolutions (ONNX Runtime) are on as in training when onnxruntime-node is installed; `FASTTS_NATIVE_CONV=0`
 * turns them off.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { chunkedGradients } from '@fastts/core/platform';
import { createModel } from '@fastts/core/models';
import { crossEntropyFlat } from '@fastts/core';
import { registerMissingKernels } from '@fastts/core/kernels';
import { type Module } from '@fastts/core/nn';
import { enableRelaxedSimd, registerWasmBackend } from '../src/backend/wasm.js';
import { enableNativeConvolutions } from '../src/onnx/native-convolutions.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const arch = arg('arch', 'resnet34');
const bs = Number(arg('bs', '8'));
const size = Number(arg('size', '224'));
const top = Number(arg('top', '30'));
const frozen = process.argv.includes('--frozen');
const evalMode = process.argv.includes('--eval');

registerWasmBackend(1);
await tf.setBackend('wasm');
enableRelaxedSimd();
registerMissingKernels('wasm');
const native = await enableNativeConvolutions(1);
console.log(`native convolutions: ${native ? native.name : 'off'}`);
const model = (await createModel(arch, { numClasses: 2 })) as Module;
if (evalMode) model.eval();
else model.train();
const params = [...model.namedParameters()];
const trainable = params
  .filter(([n]) => !frozen || /(^|\.)fc\./.test(n) || /bn\d*\./.test(n) || n.includes('downsample.1.') || n.startsWith('head'))
  .map(([, v]) => v);
const x = tf.randomNormal([bs, size, size, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
const y = tf.tensor1d(
  Array.from({ length: bs }, (_, i) => i % 2),
  'int32',
);
const step = async (): Promise<void> => {
  if (evalMode) {
    tf.tidy(() => model.forward(x)).dispose();
    return;
  }
  const r = await chunkedGradients(model, (l, t) => crossEntropyFlat(l, t), x, y, trainable, { chunkSize: bs });
  for (const g of r.grads.values()) g.dispose();
};
await step();
await step();
const t0 = performance.now();
await step();
const wall = performance.now() - t0;
const info = await tf.profile(step);
const byKind = new Map<string, { ms: number; n: number }>();
let total = 0;
for (const k of info.kernels) {
  const shapes = (k.inputShapes as number[][]).map((s) => (s ? s.join('x') : '?')).join(' ');
  const key = `${k.name} ${shapes}`;
  const e = byKind.get(key) ?? { ms: 0, n: 0 };
  e.ms += k.kernelTimeMs as number;
  e.n += 1;
  byKind.set(key, e);
  total += k.kernelTimeMs as number;
}
const byName = new Map<string, number>();
for (const k of info.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + (k.kernelTimeMs as number));
console.log(
  `${arch} bs ${bs} ${size}px ${evalMode ? 'inference' : frozen ? 'frozen' : 'unfrozen'}: step ${wall.toFixed(0)} ms wall, kernels ${total.toFixed(0)} ms`,
);
for (const [n, ms] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 15))
  console.log(`  ${n.padEnd(28)} ${ms.toFixed(0).padStart(7)} ms`);
console.log('by kernel and input shapes:');
for (const [key, e] of [...byKind].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
  console.log(`  ${e.ms.toFixed(0).padStart(6)} ms  x${e.n}  ${key}`);
}

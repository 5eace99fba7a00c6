/**
 * Per-layer convolution timings on one single-threaded wasm replica (what a data-parallel worker runs): forward,
 * input gradient and weight gradient of ResNet layer shapes, each the minimum of `--reps` runs, with two engine
 * settings A/B interleaved in the same process (so that a shared machine's load hits both alike).
 *
 *   npx tsx packages/node-gpu/bench/conv-layers.ts [--bs 8] [--reps 7] [--layers resnet34|resnet50|all] [--ab winograd]
 *
 * `--ab NAME` compares the setting NAME off (A) and on (B): see `SETTINGS` below (`native`: ONNX Runtime's kernels
 * for the convolutions they take, native-convolutions.ts). Without it, one column (native convolutions off).
 * Times are process CPU time (user + system) of each call, not wall time: on a shared machine, time slices given
 * to other processes do not count (the process runs one thread of work).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { registerMissingKernels, setNativeConvolutions, setWinogradConvolutions } from '@fastts/core/kernels';
import { enableRelaxedSimd, registerWasmBackend } from '../src/backend/wasm.js';
import { enableNativeConvolutions } from '../src/onnx/native-convolutions.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const bs = Number(arg('bs', '8'));
const reps = Number(arg('reps', '7'));
const which = arg('layers', 'resnet34');
const ab = arg('ab', '');

/** Engine settings that can be A/B compared: off, on. */
const SETTINGS: Record<string, (on: boolean) => void> = {
  winograd: (on) => setWinogradConvolutions(on),
  native: (on) => setNativeConvolutions(on ? native : null),
};

interface Layer {
  name: string;
  hw: number;
  ci: number;
  co: number;
  k: number;
  s: number;
}
const RESNET34: Layer[] = [
  { name: '7x7/2 224->112 3->64', hw: 224, ci: 3, co: 64, k: 7, s: 2 },
  { name: '3x3 56x56x64', hw: 56, ci: 64, co: 64, k: 3, s: 1 },
  { name: '3x3 28x28x128', hw: 28, ci: 128, co: 128, k: 3, s: 1 },
  { name: '3x3 14x14x256', hw: 14, ci: 256, co: 256, k: 3, s: 1 },
  { name: '3x3 7x7x512', hw: 7, ci: 512, co: 512, k: 3, s: 1 },
  { name: '3x3/2 56->28 64->128', hw: 56, ci: 64, co: 128, k: 3, s: 2 },
  { name: '3x3/2 14->7 256->512', hw: 14, ci: 256, co: 512, k: 3, s: 2 },
  { name: '1x1/2 56->28 64->128', hw: 56, ci: 64, co: 128, k: 1, s: 2 },
];
const RESNET50: Layer[] = [
  { name: '1x1 56x56 64->256', hw: 56, ci: 64, co: 256, k: 1, s: 1 },
  { name: '1x1 56x56 256->64', hw: 56, ci: 256, co: 64, k: 1, s: 1 },
  { name: '1x1 28x28 512->128', hw: 28, ci: 512, co: 128, k: 1, s: 1 },
  { name: '1x1 14x14 1024->256', hw: 14, ci: 1024, co: 256, k: 1, s: 1 },
  { name: '1x1 14x14 256->1024', hw: 14, ci: 256, co: 1024, k: 1, s: 1 },
  { name: '1x1 7x7 2048->512', hw: 7, ci: 2048, co: 512, k: 1, s: 1 },
  { name: '1x1/2 56->28 256->512', hw: 56, ci: 256, co: 512, k: 1, s: 2 },
  { name: '3x3 7x7x512', hw: 7, ci: 512, co: 512, k: 3, s: 1 },
];
const layers = which === 'resnet50' ? RESNET50 : which === 'all' ? [...RESNET34, ...RESNET50] : RESNET34;

registerWasmBackend(1);
await tf.setBackend('wasm');
enableRelaxedSimd();
registerMissingKernels('wasm');
const native = await enableNativeConvolutions(1, { enabled: true });
setNativeConvolutions(null);

function timeMin(f: (w: tf.Tensor4D) => tf.Tensor): number {
  let best = Infinity;
  for (let i = 0; i < reps; i++) best = Math.min(best, timeMinOnce(f));
  return best;
}

const setting = ab ? SETTINGS[ab] : undefined;
if (ab && !setting) throw new Error(`--ab: unknown setting '${ab}' (known: ${Object.keys(SETTINGS).join(', ')})`);
console.log(`single-threaded wasm, batch ${bs}, min of ${reps} runs (CPU ms)${setting ? `; A = ${ab} off, B = ${ab} on` : ''}`);
console.log(
  `${'layer'.padEnd(24)}${['fwd', 'bwd-input', 'bwd-filter'].map((h) => (setting ? `${h} A/B`.padStart(22) : h.padStart(12))).join('')}`,
);
const totals = [0, 0];
let filter: tf.Tensor4D | undefined;
for (const l of layers) {
  const pad = l.k === 1 ? 'valid' : 'same';
  const oh = Math.ceil(l.hw / l.s);
  const x = tf.randomNormal([bs, l.hw, l.hw, l.ci]) as tf.Tensor4D;
  filter = tf.randomNormal([l.k, l.k, l.ci, l.co]) as tf.Tensor4D;
  const dy = tf.randomNormal([bs, oh, oh, l.co]) as tf.Tensor4D;
  // a fresh filter tensor per call: the transformed/packed filter is cached per filter tensor, and a training step
  // (new weights every step) pays for it once per step
  const runs: Array<(w: tf.Tensor4D) => tf.Tensor> = [
    (w) => tf.conv2d(x, w, l.s, pad),
    (w) =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, {
        strides: [l.s, l.s],
        pad,
        dataFormat: 'NHWC',
        inputShape: x.shape,
      } as never) as tf.Tensor,
    () =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: [l.s, l.s],
        pad,
        dataFormat: 'NHWC',
        filterShape: [l.k, l.k, l.ci, l.co],
      } as never) as tf.Tensor,
  ];
  const cells: string[] = [];
  for (const run of runs) {
    if (!setting) {
      const t = timeMin(run);
      totals[0]! += t;
      cells.push(t.toFixed(1).padStart(12));
      continue;
    }
    // A/B interleaved: A B A B ..., min of each
    let a = Infinity;
    let b = Infinity;
    for (let r = 0; r < reps; r++) {
      setting(false);
      a = Math.min(a, timeMinOnce(run));
      setting(true);
      b = Math.min(b, timeMinOnce(run));
    }
    totals[0]! += a;
    totals[1]! += b;
    cells.push(`${a.toFixed(1)}/${b.toFixed(1)} ${(a / b).toFixed(2)}x`.padStart(22));
  }
  console.log(`${l.name.padEnd(24)}${cells.join('')}`);
  tf.dispose([x, filter, dy]);
}
console.log(
  setting
    ? `total A ${totals[0]!.toFixed(0)} ms, B ${totals[1]!.toFixed(0)} ms (${(totals[0]! / totals[1]!).toFixed(2)}x)`
    : `total ${totals[0]!.toFixed(0)} ms`,
);

/** CPU milliseconds of one call (on a fresh copy of the layer's filter). */
function timeMinOnce(f: (w: tf.Tensor4D) => tf.Tensor): number {
  const w = tf.add(filter!, 0) as tf.Tensor4D;
  w.dataSync();
  const c0 = process.cpuUsage();
  const out = f(w);
  out.dataSync();
  const c = process.cpuUsage(c0);
  tf.dispose([out, w]);
  return (c.user + c.system) / 1000;
}

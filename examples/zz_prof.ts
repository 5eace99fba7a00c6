import * as tf from '@tensorflow/tfjs-core';
import { ImageDataLoaders, accuracy, cnnLearner, getTransforms, loadPretrained, setupBackend, slice } from '@fastts/node-gpu';
const arch = process.argv[2] ?? 'mobilenet_v1_0.25_224';
const size = Number(process.argv[3] ?? 128);
const bs = Number(process.argv[4] ?? 16);
await setupBackend({ backend: 'wasm', log: null });
const data = await ImageDataLoaders.fromFolder('/work/shared/datasets/doraemon-walle', { test: 'test', tfms: getTransforms(), size, bs, seed: 1 });
let t = Date.now();
await data.preload();
console.log('preload', Date.now() - t);
const weights = await loadPretrained(arch, { home: '/work/shared', offline: true });
const learn = await cnnLearner(data, arch, { metrics: [accuracy], weights });
// data only
t = Date.now();
for await (const { x, y } of data.trainDl) { tf.dispose([x, y]); }
console.log('one pass data only (augment)', Date.now() - t, 'ms');
const times: Record<string, number> = {};
const orig = learn.trainStep.computeGradients.bind(learn.trainStep);
learn.trainStep.computeGradients = async (ctx, x, y) => { const t0 = Date.now(); const r = await orig(ctx, x, y); times.grads = (times.grads ?? 0) + Date.now() - t0; return r; };
const step = learn.opt.step.bind(learn.opt);
learn.opt.step = (g) => { const t0 = Date.now(); step(g); times.opt = (times.opt ?? 0) + Date.now() - t0; };
for (const phase of ['frozen', 'unfrozen']) {
  if (phase === 'unfrozen') learn.unfreeze();
  for (const k of Object.keys(times)) delete times[k];
  t = Date.now();
  await learn.fitOneCycle(1, { maxLr: phase === 'frozen' ? slice(3e-3) : slice(1e-5, 3e-4) });
  const total = Date.now() - t;
  console.log(phase, 'fit total', total, times, 'mem', tf.memory().numTensors, (tf.memory().numBytes / 1e6).toFixed(0), 'MB');
}
t = Date.now(); await learn.validate(); console.log('validate', Date.now() - t);

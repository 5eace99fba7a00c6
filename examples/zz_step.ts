import * as tf from '@tensorflow/tfjs-core';
import { createBody, createHead, loadPretrained, setupBackend, Sequential, crossEntropyFlat } from '@fastts/node-gpu';
const arch = process.argv[2] ?? 'resnet50-keras';
const size = Number(process.argv[3] ?? 224);
const bs = Number(process.argv[4] ?? 8);
const threads = Number(process.argv[5] ?? 2);
await setupBackend({ backend: 'wasm', threads, log: null });
const body = createBody(arch);
const model = new Sequential(body, createHead(body.nf, 2));
const x = tf.randomUniform([bs, size, size, 3], -100, 100) as tf.Tensor4D;
const y = tf.tensor1d(Array.from({ length: bs }, (_, i) => i % 2), 'int32');
model.eval();
let t = Date.now(); tf.tidy(() => model.forward(x)).dataSync(); console.log('fwd eval (warm-up)', Date.now() - t);
t = Date.now(); tf.tidy(() => model.forward(x)).dataSync(); console.log('fwd eval', Date.now() - t);
model.train();
for (const mode of ['frozen', 'unfrozen']) {
  const vars = model.namedParameters().filter(([n]) => mode === 'unfrozen' || n.startsWith('1.') || /bn|batch|\.running|norm/i.test(n)).map(([, v]) => v);
  for (let i = 0; i < 2; i++) {
    t = Date.now();
    let peak = 0;
    const { value, grads } = tf.variableGrads(() => { const l = crossEntropyFlat(model.forward(x), y) as tf.Scalar; peak = tf.memory().numBytes; return l; }, vars);
    value.dataSync();
    console.log(mode, 'step', Date.now() - t, 'ms', 'vars', vars.length, 'fwd-tape MB', (peak / 1e6).toFixed(0), 'after MB', (tf.memory().numBytes / 1e6).toFixed(0));
    tf.dispose(Object.values(grads)); value.dispose();
  }
}

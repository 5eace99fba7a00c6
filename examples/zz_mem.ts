import * as tf from '@tensorflow/tfjs-core';
import { createBody, createHead, setupBackend, Sequential, crossEntropyFlat } from '@fastts/node-gpu';
await setupBackend({ backend: 'wasm', threads: 2, log: null });
for (const [arch, size] of [['resnet50-keras', 224], ['mobilenet_v1_0.75_224', 224], ['mobilenet_v1_0.25_224', 128]] as const) {
  const body = createBody(arch);
  const model = new Sequential(body, createHead(body.nf, 2));
  const x = tf.randomUniform([2, size, size, 3], -100, 100) as tf.Tensor4D;
  const y = tf.tensor1d([0, 1], 'int32');
  const base = tf.memory().numBytes;
  model.eval();
  let evalPeak = 0;
  tf.tidy(() => { model.forward(x); evalPeak = tf.memory().numBytes - base; });
  model.train();
  let trainPeak = 0;
  tf.tidy(() => { model.forward(x); trainPeak = tf.memory().numBytes - base; });
  let tape = 0;
  const vars = model.trainableParameters();
  const { value, grads } = tf.variableGrads(() => { const l = crossEntropyFlat(model.forward(x), y) as tf.Scalar; tape = tf.memory().numBytes - base; return l; }, vars);
  tf.dispose([value, ...Object.values(grads)]);
  console.log(arch, size, 'per image MB: eval', (evalPeak / 2e6).toFixed(0), 'train-tidy', (trainPeak / 2e6).toFixed(0), 'tape', (tape / 2e6).toFixed(0));
  model.dispose(); x.dispose(); y.dispose();
}

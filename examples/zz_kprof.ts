import * as tf from '@tensorflow/tfjs-core';
import { createBody, createHead, setupBackend, Sequential, crossEntropyFlat } from '@fastts/node-gpu';
const arch = process.argv[2] ?? 'resnet50-keras';
const size = Number(process.argv[3] ?? 224);
const bs = Number(process.argv[4] ?? 2);
await setupBackend({ backend: 'wasm', threads: 2, log: null });
const times = new Map<string, { ms: number; n: number }>();
for (const k of tf.getKernelsForBackend('wasm')) {
  const f = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, 'wasm');
  tf.registerKernel({ ...k, kernelFunc: (args: any) => { const t = performance.now(); const r = f(args); const e = times.get(k.kernelName) ?? { ms: 0, n: 0 }; e.ms += performance.now() - t; e.n++; times.set(k.kernelName, e); return r; } });
}
const body = createBody(arch);
const model = new Sequential(body, createHead(body.nf, 2));
const x = tf.randomUniform([bs, size, size, 3], -100, 100) as tf.Tensor4D;
const y = tf.tensor1d(Array.from({ length: bs }, (_, i) => i % 2), 'int32');
model.train();
const vars = model.namedParameters().filter(([n]) => n.startsWith('1.') || /bn|batch/i.test(n)).map(([, v]) => v);
for (let i = 0; i < 2; i++) {
  times.clear();
  const t = Date.now();
  const { value, grads } = tf.variableGrads(() => crossEntropyFlat(model.forward(x), y) as tf.Scalar, vars);
  value.dataSync();
  console.log('step', Date.now() - t);
  tf.dispose(Object.values(grads)); value.dispose();
}
const sorted = [...times.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15);
for (const [k, v] of sorted) console.log(k.padEnd(36), v.ms.toFixed(0).padStart(8), 'ms', String(v.n).padStart(5));

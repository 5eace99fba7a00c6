/**
 * Input-pipeline benchmark: decoding + augmenting one epoch of doraemon-walle at 224 px (fast.ai's
 * get_transforms() on the training set), cold (first epoch: every image decoded) and warm (cached pixels).
 *
 *   npx tsx packages/node-gpu/bench/input-pipeline.ts [--size 224] [--bs 64] [--backend auto|wasm|cpu] [--data DIR]
 *
 * Prints img/s per phase and, last, one JSON line for the repo-wide `npm run bench`. The reference is PyTorch
 * *training* one epoch on this machine (3.4 img/s, shared/bench/torch_cpu_baseline.py): the input pipeline must
 * be far faster, so that it is never the bottleneck.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { DORAEMON_WALLE } from '../../../test-support/shared.js';
import { fromFolder, getTransforms, type DataBunch } from '../src/index.js';

const REFERENCE_TRAIN_IMG_S = 3.4;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function chooseBackend(wanted: string): Promise<string> {
  if (wanted === 'auto') {
    // Use the kernels area's choice when it exists (setupBackend), else the wasm backend.
    const mod = (await import('../src/index.js')) as Record<string, unknown>;
    const setup = mod['setupBackend'];
    if (typeof setup === 'function') {
      await (setup as (o: { backend: string }) => Promise<unknown>)({ backend: 'auto' });
      return tf.getBackend();
    }
    wanted = 'wasm';
  }
  await tf.setBackend(wanted);
  await tf.ready();
  return tf.getBackend();
}

async function epoch(data: DataBunch): Promise<{ images: number; seconds: number }> {
  const t0 = performance.now();
  let images = 0;
  for await (const { x, y } of data.trainDl) {
    images += x.shape[0];
    x.dispose();
    y.dispose();
  }
  return { images, seconds: (performance.now() - t0) / 1000 };
}

const size = Number(arg('size', '224'));
const bs = Number(arg('bs', '64'));
const dataDir = arg('data', DORAEMON_WALLE);
const backend = await chooseBackend(arg('backend', 'auto'));
const tensorsBefore = tf.memory().numTensors;

const t0 = performance.now();
const data = await fromFolder(dataDir, { size, bs, tfms: getTransforms(), seed: 42, test: 'test' });
const setupSeconds = (performance.now() - t0) / 1000;
console.log(`backend ${backend}; ${data.toString().split('\n').join('; ')}`);
console.log(
  `setup (scan + header checks of ${data.trainDl.n + data.validDl.n + (data.testDl?.n ?? 0)} files): ${setupSeconds.toFixed(2)} s`,
);

const cold = await epoch(data);
const coldRate = cold.images / cold.seconds;
console.log(`epoch 1 (decode + augment): ${cold.images} images in ${cold.seconds.toFixed(2)} s = ${coldRate.toFixed(1)} img/s`);
const warm = await epoch(data);
const warmRate = warm.images / warm.seconds;
console.log(
  `epoch 2 (cached pixels, augment only): ${warm.images} images in ${warm.seconds.toFixed(2)} s = ${warmRate.toFixed(1)} img/s`,
);
const tensorsAfter = tf.memory().numTensors;
console.log(`tf.memory().numTensors: ${tensorsBefore} before, ${tensorsAfter} after two epochs`);
console.log(
  `epoch 1 is ${(coldRate / REFERENCE_TRAIN_IMG_S).toFixed(1)}x the PyTorch reference's training speed (${REFERENCE_TRAIN_IMG_S} img/s)`,
);
console.log(
  JSON.stringify({
    bench: 'input-pipeline',
    backend,
    size,
    bs,
    trainItems: data.trainDl.n,
    setupSeconds: +setupSeconds.toFixed(3),
    epoch1ImgPerSec: +coldRate.toFixed(2),
    epoch2ImgPerSec: +warmRate.toFixed(2),
    referenceTrainImgPerSec: REFERENCE_TRAIN_IMG_S,
    ratioVsReference: +(coldRate / REFERENCE_TRAIN_IMG_S).toFixed(2),
    tensorsLeaked: tensorsAfter - tensorsBefore,
  }),
);

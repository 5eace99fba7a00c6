/**
 * Acceptance (issue 16): a fastts model exported to ONNX and run in onnxruntime-node gives fastts' own logits
 * within 1e-4 relative on the ImageNet sample photos, for a torchvision ResNet (the random-init torchvision
 * ResNet-18 fixture as the body: no ResNet-18/34 ImageNet weights exist offline), the Keras ResNet-50 and a
 * MobileNet (ImageNet weights from the shared cache), each with fast.ai's head (random init), in eval mode.
 *
 * onnxruntime-node is a devDependency of this package and imported statically: without it this file fails.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyPreprocessing, createBody, createHead, type ArchModel } from '@fastts/core/models';
import { decodeImageFile, getArch, loadPretrained } from '@fastts/node-gpu';
import { readTorchCheckpoint } from '@fastts/core/weights';
import { Sequential } from '@fastts/core/nn';
import { toOnnx } from '@fastts/core/onnx';
import { transformImages } from '@fastts/core/transforms';
import { SHARED_DIR, WEIGHTS_HOME, requireShared } from '../../test-support/shared.js';
import { setupTestBackend } from './backend.js';

const SIZE = 224;
const CLASSES = ['doraemon', 'walle', 'other'];
const SAMPLES = join(SHARED_DIR, 'models', 'imagenet-samples');
const FIXTURE = join(SHARED_DIR, 'fixtures', 'torchvision-resnet18', 'resnet18.pth');

let pixels: tf.Tensor4D;
let files: string[];

beforeAll(async () => {
  requireShared();
  await setupTestBackend();
  files = readdirSync(SAMPLES)
    .filter((f) => f.endsWith('.jpg'))
    .sort();
  const images = await Promise.all(files.map((f) => decodeImageFile(join(SAMPLES, f), { width: 336, height: 336, fit: 'fill' })));
  pixels = transformImages(images, { size: SIZE });
});

afterAll(() => pixels?.dispose());

/** The torchvision fixture's weights without its ImageNet classifier (`fc.*`). */
function fixtureBody(): ArchModel {
  const body = createBody('resnet18');
  const sd = readTorchCheckpoint(new Uint8Array(readFileSync(FIXTURE)));
  for (const [k, t] of sd) {
    if (k.startsWith('fc.')) {
      t.dispose();
      sd.delete(k);
    }
  }
  body.loadStateDict(sd);
  tf.dispose([...sd.values()]);
  return body;
}

async function pretrainedBody(arch: string): Promise<ArchModel> {
  const weights = await loadPretrained(arch, { home: WEIGHTS_HOME, offline: true });
  try {
    return createBody(arch, { weights });
  } finally {
    weights.dispose();
  }
}

describe('ONNX export run in onnxruntime-node vs fastts', () => {
  it.each([
    ['resnet18', 'the torchvision fixture', fixtureBody],
    ['resnet50-keras', 'ImageNet weights', () => pretrainedBody('resnet50-keras')],
    ['mobilenet_v1_0.75_224', 'ImageNet weights', () => pretrainedBody('mobilenet_v1_0.75_224')],
  ] as const)('%s (%s) + fast.ai head: logits within 1e-4 relative on every sample', async (arch, _weights, makeBody) => {
    const body = await makeBody();
    const model = new Sequential(body, createHead(body.nf, CLASSES.length)).eval();
    const { preprocessing } = getArch(arch);
    const want = tf.tidy(() => model.forward(applyPreprocessing(preprocessing, pixels)));
    const ref = (await want.data()) as Float32Array;
    const onnx = await toOnnx(model, { classes: CLASSES, size: SIZE, preprocessing, arch });
    const session = await ort.InferenceSession.create(onnx, { executionProviders: ['cpu'], intraOpNumThreads: 2 });
    const nchw = tf.transpose(pixels, [0, 3, 1, 2]);
    const out = await session.run({ pixels: new ort.Tensor('float32', (await nchw.data()) as Float32Array, nchw.shape) });
    const got = out.logits!.data as Float32Array;
    const c = CLASSES.length;
    expect(got).toHaveLength(ref.length);
    for (const [i, f] of files.entries()) {
      const row = ref.subarray(i * c, (i + 1) * c);
      const scale = Math.max(...row.map(Math.abs));
      const worst = Math.max(...got.subarray(i * c, (i + 1) * c).map((v, k) => Math.abs(v - row[k]!)));
      expect(
        worst / scale,
        `${arch} ${f}: max |onnx - fastts| / max |fastts| (logits ${Array.from(row).join(', ')})`,
      ).toBeLessThan(1e-4);
    }
    await session.release();
    tf.dispose([want, nchw]);
    model.dispose();
  });
});

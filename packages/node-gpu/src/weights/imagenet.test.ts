/**
 * The pre-filled weight cache (../shared/models) through loadPretrained: each model classifies the ImageNet
 * samples as expected.json records (whole image resized bilinearly to 224x224 with tf.image.resizeBilinear).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { createModel, preprocess } from '@fastts/core/models';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { WEIGHTS_HOME, SHARED_DIR } from '../../../../test-support/shared.js';
import { loadPretrained } from './load.js';

const SAMPLES = join(SHARED_DIR, 'models', 'imagenet-samples');
const expected = JSON.parse(readFileSync(join(SAMPLES, 'expected.json'), 'utf8')) as {
  models: Record<string, { images: Record<string, { top1: number; prob: number }> }>;
};

/** Decodes a JPEG to a [1, 224, 224, 3] float32 batch of 0..255 values, resized as expected.json was made. */
async function loadSample(file: string): Promise<tf.Tensor4D> {
  const { data, info } = await sharp(join(SAMPLES, file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return tf.tidy(() => {
    const img = tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32');
    return tf.image.resizeBilinear(tf.expandDims(tf.cast(img, 'float32'), 0) as tf.Tensor4D, [224, 224]);
  });
}

describe('pretrained ImageNet models from the shared cache', () => {
  const images = Object.keys(expected.models['resnet50-keras']!.images);
  let batch: tf.Tensor4D;

  beforeAll(async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    const xs = await Promise.all(images.map(loadSample));
    batch = tf.concat(xs);
    tf.dispose(xs);
  });

  it.each(Object.keys(expected.models))('%s classifies the samples as expected.json', async (arch) => {
    const before = tf.memory().numTensors;
    const weights = await loadPretrained(arch, { home: WEIGHTS_HOME, offline: true });
    const model = createModel(arch, { weights });
    weights.dispose();
    model.eval();
    const probs = tf.tidy(() => tf.softmax(model.forward(preprocess(arch, batch)) as tf.Tensor2D));
    const p = (await probs.array()) as number[][];
    probs.dispose();
    model.dispose();
    images.forEach((img, i) => {
      const want = expected.models[arch]!.images[img]!;
      const row = p[i]!;
      const top1 = row.indexOf(Math.max(...row));
      expect({ img, top1 }).toEqual({ img, top1: want.top1 });
      expect(Math.abs(row[top1]! - want.prob)).toBeLessThan(0.05);
    });
    expect(tf.memory().numTensors).toBe(before);
  });
});

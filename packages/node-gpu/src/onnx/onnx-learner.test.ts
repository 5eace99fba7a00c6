/**
 * ONNX Runtime inference of fastts' ONNX exports against fastts' own tfjs inference of the same model. Needs
 * `onnxruntime-node` (an optional dependency that `npm ci` installs here): these tests fail, not skip, without it.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { applyPreprocessing, IMAGENET_PREPROCESSING } from '@fastts/core/models';
import { createCnnModel } from '@fastts/core/platform';
import { InferenceLearner, type VisionExportInfo } from '@fastts/core';
import { toOnnx } from '@fastts/core/onnx';
import { type Module } from '@fastts/core/nn';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR } from '../../../../test-support/shared.js';
import { decodeImageFile } from '../data/index.js';
import { chooseInferenceEngine, OnnxModelMissingError } from './engine.js';
import { loadOnnxLearner } from './onnx-learner.js';
import { hasCudaProvider, loadOnnxRuntime, OnnxRuntimeUnavailableError } from './runtime.js';

const SAMPLES = join(SHARED_DIR, 'models', 'imagenet-samples');
const TMP = mkdtempSync(join(tmpdir(), 'fastts-onnx-'));
const SIZE = 64;
const CLASSES = ['a', 'b', 'c'];

/** Random BatchNorm statistics, so that folding them into the convolutions is really exercised. */
function randomizeBatchNorm(model: Module): void {
  tf.tidy(() => {
    for (const [name, b] of model.namedBuffers()) {
      if (name.endsWith('running_mean')) b.assign(tf.randomUniform(b.shape, -0.3, 0.3));
      if (name.endsWith('running_var')) b.assign(tf.randomUniform(b.shape, 0.5, 2));
    }
  });
}

let model: Module;
let info: VisionExportInfo;
let file: string;

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  model = createCnnModel('resnet18', CLASSES.length);
  randomizeBatchNorm(model);
  info = {
    arch: 'resnet18',
    size: SIZE,
    nf: 512,
    head: {},
    preprocessing: IMAGENET_PREPROCESSING,
    decodeTarget: { width: 96, height: 96, fit: 'fill' },
  };
  file = join(TMP, 'export.onnx');
  writeFileSync(file, await toOnnx(model, { ...info, classes: CLASSES }));
});

afterAll(() => {
  model?.dispose();
  rmSync(TMP, { recursive: true, force: true });
});

describe('loadOnnxLearner', () => {
  it('gives the logits of fastts on the same pixels, in either input layout', async () => {
    const learn = await loadOnnxLearner(file, { threads: 1 });
    expect(learn.executionProvider).toBe('cpu');
    expect(learn.info).toMatchObject({
      arch: 'resnet18',
      classes: CLASSES,
      size: SIZE,
      inputLayout: 'NCHW',
      decodeTarget: info.decodeTarget,
    });
    const nhwcFile = join(TMP, 'nhwc.onnx');
    writeFileSync(nhwcFile, await toOnnx(model, { ...info, classes: CLASSES }, { inputLayout: 'NHWC' }));
    const nhwc = await loadOnnxLearner(nhwcFile, { device: 'cpu' });
    const pixels = tf.randomUniform([3, SIZE, SIZE, 3], 0, 255) as tf.Tensor4D;
    const want = tf.tidy(() => model.eval().forward(applyPreprocessing(IMAGENET_PREPROCESSING, pixels)));
    const ref = (await want.data()) as Float32Array;
    const scale = Math.max(...ref.map(Math.abs));
    const nchwPixels = tf.transpose(pixels, [0, 3, 1, 2]);
    for (const [l, px] of [
      [learn, nchwPixels],
      [nhwc, pixels],
    ] as const) {
      const { logits, probs } = await l.predictPixels((await px.data()) as Float32Array, 3);
      expect(logits).toHaveLength(9);
      const worst = Math.max(...logits.map((v, i) => Math.abs(v - ref[i]!)));
      expect(worst / scale).toBeLessThan(1e-4);
      for (let r = 0; r < 3; r++) expect(probs.subarray(r * 3, r * 3 + 3).reduce((a, b) => a + b)).toBeCloseTo(1, 5);
    }
    await expect(learn.predictPixels(new Float32Array(10), 1)).rejects.toThrow(/expected 1 images of 64x64x3 values/);
    tf.dispose([pixels, want, nchwPixels]);
    await learn.dispose();
    await nhwc.dispose();
  });

  it('predicts decoded images in batches as the tfjs InferenceLearner does', async () => {
    const files = readdirSync(SAMPLES).filter((f) => f.endsWith('.jpg'));
    const images = await Promise.all(files.map((f) => decodeImageFile(join(SAMPLES, f), info.decodeTarget!)));
    const learn = await loadOnnxLearner(file, { threads: 2 });
    const batch = await learn.predictBatch(images, { bs: 2 });
    const single = await learn.predict(images[0]!);
    const tfjs = new InferenceLearner(model, CLASSES, info);
    expect(batch).toHaveLength(images.length);
    for (const [i, image] of images.entries()) {
      const want = await tfjs.predict(image);
      expect(batch[i]!.className, files[i]).toBe(want.className);
      batch[i]!.probs.forEach((p, k) => expect(Math.abs(p - want.probs[k]!)).toBeLessThan(1e-4));
    }
    expect(single.probs).toEqual(batch[0]!.probs);
    await expect(learn.predictBatch(images, { bs: 0 })).rejects.toThrow(/bs must be a positive integer/);
    await learn.dispose();
  });

  it('says what is wrong with a missing or foreign file, and a missing runtime', async () => {
    await expect(loadOnnxLearner(join(TMP, 'nope.onnx'))).rejects.toThrow(/cannot read the ONNX model .*nope\.onnx \(ENOENT\)/);
    const junk = join(TMP, 'junk.onnx');
    writeFileSync(junk, 'not a model at all');
    await expect(loadOnnxLearner(junk)).rejects.toThrow(/junk\.onnx is not an ONNX model/);
    // Without the CUDA provider library (its install script did not run), asking for CUDA says so.
    if (!hasCudaProvider())
      await expect(loadOnnxLearner(file, { device: 'cuda' })).rejects.toThrow(
        /CUDA execution provider is not installed .*or use device 'cpu'/,
      );
    const err = await loadOnnxRuntime('onnxruntime-node-not-installed').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxRuntimeUnavailableError);
    expect((err as Error).message).toMatch(/^onnxruntime-node-not-installed is not installed: install onnxruntime-node/);
  });
});

describe('chooseInferenceEngine', () => {
  it('picks ONNX Runtime for auto when the export exists, and insists only when asked', async () => {
    expect(await chooseInferenceEngine('auto', file)).toBe('onnx');
    expect(await chooseInferenceEngine('auto', join(TMP, 'missing.onnx'))).toBe('tfjs');
    expect(await chooseInferenceEngine('auto', undefined)).toBe('tfjs');
    expect(await chooseInferenceEngine('tfjs', file)).toBe('tfjs');
    expect(await chooseInferenceEngine('onnx', file)).toBe('onnx');
    await expect(chooseInferenceEngine('onnx', join(TMP, 'missing.onnx'))).rejects.toThrow(OnnxModelMissingError);
  });
});

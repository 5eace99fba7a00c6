import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR } from '../../../../test-support/shared.js';
import { readSafetensors } from '../weights/safetensors.js';
import { readTorchCheckpoint } from '../weights/torch.js';
import { createModel } from './registry.js';
import { float32FromBytes, maxAbsDiff, useWasmBackend } from './testing.js';

const FIXTURE = join(SHARED_DIR, 'fixtures', 'torchvision-resnet18');
const read = (f: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURE, f)));

/** input.f32 is NCHW [2,3,64,64]; our models take NHWC. */
function fixtureInput(): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(float32FromBytes(read('input.f32')), [2, 3, 64, 64]), [0, 2, 3, 1]));
}

describe('torchvision resnet18 fixture', () => {
  beforeAll(useWasmBackend);

  it.each([
    ['resnet18.pth', 'logits.pth.f32', 1e-3, readTorchCheckpoint],
    ['resnet18.f16.safetensors', 'logits.safetensors.f32', 5e-3, readSafetensors],
  ] as const)('%s loads strictly and reproduces torchvision logits', async (file, logitsFile, tol, reader) => {
    const before = tf.memory().numTensors;
    const sd = reader(read(file));
    const model = createModel('resnet18');
    model.loadStateDict(sd, { strict: true });
    tf.dispose([...sd.values()]);
    model.eval();
    const x = fixtureInput();
    const logits = model.forward(x);
    expect(logits.shape).toEqual([2, 1000]);
    const expected = tf.tensor2d(float32FromBytes(read(logitsFile)), [2, 1000]);
    const err = await maxAbsDiff(logits, expected);
    console.log(file, 'max abs err', err);
    expect(err).toBeLessThan(tol);
    tf.dispose([x, logits, expected]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../gradients.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossEntropyFlat } from './loss.js';
import { accuracy, errorRate, metricName } from './metrics.js';
import { LossInputError } from './errors.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// reference values from torch.nn.functional.cross_entropy (float64)
const logits = () =>
  tf.tensor2d([
    [1.0, 2.0, 0.5],
    [0.1, -1.0, 3.0],
  ]);
const targets = () => tf.tensor1d([0, 2], 'int32');

describe('crossEntropyFlat', () => {
  it('matches torch cross_entropy, per item and mean, and its gradient', () => {
    const x = logits();
    const y = targets();
    expect(crossEntropyFlat(x, y).dataSync()[0]).toBeCloseTo(0.7675715015342182, 5);
    const none = Array.from(crossEntropyFlat(x, y, { reduction: 'none' }).dataSync());
    expect(none[0]).toBeCloseTo(1.464368784107945, 5);
    expect(none[1]).toBeCloseTo(0.07077421896049133, 5);
    const g = tf.grad((l: tf.Tensor) => crossEntropyFlat(l, y))(x);
    const ref = [
      -0.3843880511889255, 0.3142658596058812, 0.07012219158304424, 0.02563180285417184, 0.008532085993203705,
      -0.034163888847375534,
    ];
    Array.from(g.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 5));
  });
  it('applies label smoothing like torch (label_smoothing=0.1) / fast.ai LabelSmoothingCrossEntropy', () => {
    expect(crossEntropyFlat(logits(), targets(), { labelSmoothing: 0.1 }).dataSync()[0]).toBeCloseTo(0.8742381682008848, 5);
  });
  it('flattens extra axes', () => {
    const x = tf.reshape(logits(), [1, 2, 3]);
    expect(crossEntropyFlat(x, tf.tensor2d([[0, 2]], [1, 2], 'int32')).dataSync()[0]).toBeCloseTo(0.7675715015342182, 5);
  });
  it('explains mismatched inputs', () => {
    expect(() => crossEntropyFlat(logits(), tf.tensor1d([0, 1, 2], 'int32'))).toThrow(/3 targets .* for 2 predictions/);
    expect(() => crossEntropyFlat(logits(), tf.tensor1d([0, 1]))).toThrow(/int32 class indices/);
    expect(() => crossEntropyFlat(tf.tensor1d([1, 2]), targets())).toThrow(LossInputError);
  });
});

describe('metrics', () => {
  it('accuracy and error_rate count arg-max hits', () => {
    const p = tf.tensor2d([
      [0.9, 0.1],
      [0.2, 0.8],
      [0.6, 0.4],
      [0.3, 0.7],
    ]);
    const y = tf.tensor1d([0, 1, 1, 1], 'int32');
    expect(accuracy(p, y).dataSync()[0]).toBeCloseTo(0.75, 6);
    expect(errorRate(p, y).dataSync()[0]).toBeCloseTo(0.25, 6);
    expect(metricName(accuracy)).toBe('accuracy');
    expect(metricName(errorRate)).toBe('error_rate');
    const myTopK = (a: tf.Tensor, _b: tf.Tensor) => tf.sum(a) as tf.Scalar;
    expect(metricName(myTopK)).toBe('my_top_k');
  });
});

/** Test-time augmentation views (fast.ai v1 `TTA`). */
import * as tf from '@tensorflow/tfjs-core';

/** The 8 views of fast.ai v1's TTA: zoom by `scale` towards each corner, with and without a horizontal flip. */
export function ttaViews(scale: number): Array<(x: tf.Tensor4D) => tf.Tensor4D> {
  const s = 1 / scale;
  const views: Array<(x: tf.Tensor4D) => tf.Tensor4D> = [];
  for (let i = 0; i < 8; i++) {
    const row = i & 1 ? 1 : 0;
    const col = i & 2 ? 1 : 0;
    const flip = (i & 4) !== 0;
    views.push((x) =>
      tf.tidy(() => {
        const [n, h, w] = x.shape;
        const y1 = row * (1 - s);
        const x1 = col * (1 - s);
        const boxes = tf.tensor2d(Array.from({ length: n }, () => [y1, x1, y1 + s, x1 + s]));
        const idx = tf.tensor1d(
          Array.from({ length: n }, (_, k) => k),
          'int32',
        );
        const z = tf.image.cropAndResize(x, boxes, idx, [h, w], 'bilinear');
        return flip ? tf.reverse(z, 2) : z;
      }),
    );
  }
  return views;
}

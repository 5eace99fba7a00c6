/**
 * The one batched sampling op of the augmentation pipeline: `tf.image.transform` (projective, bilinear) with one
 * matrix per image, reflecting at the image borders like fast.ai's `grid_sample(padding_mode='reflection')`.
 *
 * Two tfjs 4.22 kernel bugs shape this code:
 * - tfjs-backend-wasm's Transform maps negative coordinates wrongly in 'reflect' mode (x = -1 and x = -2 both read
 *   the row's last pixel). So reflection is done by `tf.mirrorPad(..., 'reflect')` — which reflects about the
 *   border pixels' centers, exactly PyTorch's reflection with align_corners=True — by just as many pixels as the
 *   batch's matrices reach outside the image, and the kernel then samples with its (correct) 'nearest' mode.
 * - tfjs-backend-cpu's Transform returns after the first image of a batch and leaves the others blank, so on
 *   that backend the images are sampled one call each.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Backends whose Transform kernel mishandles batches (tfjs 4.22: the pure-JS `cpu` backend returns after the first
 * image). A fixed table rather than a runtime probe: a probe needs a synchronous read, which WebGPU cannot do
 * without a DOM canvas (Node's Dawn) and which fails in some headless browsers.
 */
const BATCH_UNSAFE_BACKENDS: ReadonlySet<string> = new Set(['cpu']);

/** Whether the active backend's Transform kernel handles a batch of several images correctly. */
export function transformIsBatchSafe(): boolean {
  return !BATCH_UNSAFE_BACKENDS.has(tf.getBackend());
}

/** Where a tf.image.transform matrix sends output pixel (x, y). */
function project(t: readonly number[], x: number, y: number): [number, number] {
  const k = t[6]! * x + t[7]! * y + 1;
  return [(t[0]! * x + t[1]! * y + t[2]!) / k, (t[3]! * x + t[4]! * y + t[5]!) / k];
}

/**
 * How far (in pixels, per side: top, bottom, left, right) the matrices reach outside a `width x height` input
 * for an `outW x outH` output. A projective map sends the output rectangle to a quadrilateral, so its corners
 * bound the reach. Each side is capped at `dim - 1` (the most a reflection can add); beyond that, border pixels
 * are repeated.
 */
export function reflectionPadding(
  transforms: readonly (readonly number[])[],
  width: number,
  height: number,
  outW: number,
  outH: number,
): [number, number, number, number] {
  let minX = 0;
  let maxX = width - 1;
  let minY = 0;
  let maxY = height - 1;
  for (const t of transforms) {
    for (const [x, y] of [
      [0, 0],
      [outW - 1, 0],
      [0, outH - 1],
      [outW - 1, outH - 1],
    ] as const) {
      const [u, v] = project(t, x, y);
      if (!Number.isFinite(u) || !Number.isFinite(v)) continue;
      minX = Math.min(minX, u);
      maxX = Math.max(maxX, u);
      minY = Math.min(minY, v);
      maxY = Math.max(maxY, v);
    }
  }
  // +1 pixel: bilinear reads the neighbour of the last sampled position
  const pad = (over: number, dim: number): number => (over > 0 ? Math.min(dim - 1, Math.ceil(over) + 1) : 0);
  return [pad(-minY, height), pad(maxY - (height - 1), height), pad(-minX, width), pad(maxX - (width - 1), width)];
}

/**
 * Samples `[N, outH, outW, C]` from `images` `[N, H, W, C]`, one projective map per image (`transforms` is N x 8,
 * tf.image.transform's form: output pixel -> input pixel), bilinear, reflecting at the image borders.
 */
export function sampleProjective(
  images: tf.Tensor4D,
  transforms: readonly (readonly number[])[],
  outputShape: [number, number],
): tf.Tensor4D {
  const [n, height, width] = images.shape;
  if (transforms.length !== n) throw new Error(`sampleProjective: ${transforms.length} transforms for ${n} images`);
  const [outH, outW] = outputShape;
  const [top, bottom, left, right] = reflectionPadding(transforms, width, height, outW, outH);
  // shift the input coordinates into the padded image: x' = x + left, y' = y + top
  const shifted = transforms.map((t) => [
    t[0]! + left * t[6]!,
    t[1]! + left * t[7]!,
    t[2]! + left,
    t[3]! + top * t[6]!,
    t[4]! + top * t[7]!,
    t[5]! + top,
    t[6]!,
    t[7]!,
  ]);
  return tf.tidy(() => {
    const padded =
      top || bottom || left || right
        ? tf.mirrorPad(
            images,
            [
              [0, 0],
              [top, bottom],
              [left, right],
              [0, 0],
            ],
            'reflect',
          )
        : images;
    if (n === 1 || transformIsBatchSafe()) {
      return tf.image.transform(padded, tf.tensor2d(shifted.flat(), [n, 8]), 'bilinear', 'nearest', 0, outputShape);
    }
    const parts = shifted.map((t, i) =>
      tf.image.transform(
        tf.slice(padded, [i, 0, 0, 0], [1, -1, -1, -1]),
        tf.tensor2d(t, [1, 8]),
        'bilinear',
        'nearest',
        0,
        outputShape,
      ),
    );
    return tf.concat(parts, 0);
  });
}

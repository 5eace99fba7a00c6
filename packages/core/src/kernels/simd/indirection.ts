/**
 * Indirection buffers of the direct convolution kernels (XNNPACK's scheme): for every output pixel and filter tap,
 * the heap address of the input row it reads (a zero row in the padding); and the horizontally padded input copy
 * of narrow-input convolutions whose taps along a filter row merge into one long row.
 */
import type { ConvGeometry } from '../conv-geometry.js';

/** Whether a convolution's taps along a filter row can run as one long row (narrow input, no horizontal dilation). */
export function isMergeable(g: ConvGeometry): boolean {
  return g.inChannels < 8 && g.filterWidth > 1 && g.dilationWidth === 1;
}

/** Width of the horizontally padded input in which every output pixel's window lies (window of ox at ox·sw). */
export function paddedWidth(g: ConvGeometry): number {
  return Math.max(g.inWidth + g.padLeft, (g.outWidth - 1) * g.strideWidth + g.filterWidth);
}

/** Input-row address of output pixel (n, oy, ox) at tap (i, j), or `zero` in the padding. */
export function indirection(
  i32: Int32Array,
  at: number,
  g: ConvGeometry,
  xPtr: number,
  rowBytes: number,
  zero: number,
  layout: 'groups' | 'pixels',
  rows: number,
): void {
  const { batch, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = g;
  const taps = kh * kw;
  let m = 0;
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, m++) {
        // groups: [m/4][tap][m%4]; pixels: [m][tap]
        const base = layout === 'groups' ? at + (m >>> 2) * taps * 4 + (m & 3) : at + m * taps;
        const step = layout === 'groups' ? 4 : 1;
        let t = 0;
        for (let i = 0; i < kh; i++) {
          const y = oy * g.strideHeight + i * g.dilationHeight - g.padTop;
          const rowOk = y >= 0 && y < g.inHeight;
          for (let j = 0; j < kw; j++, t++) {
            const x = ox * g.strideWidth + j * g.dilationWidth - g.padLeft;
            i32[base + t * step] =
              rowOk && x >= 0 && x < g.inWidth ? xPtr + ((n * g.inHeight + y) * g.inWidth + x) * rowBytes : zero;
          }
        }
      }
    }
  }
  if (layout === 'groups') {
    for (; m < rows; m++) {
      const base = at + (m >>> 2) * taps * 4 + (m & 3);
      for (let t = 0; t < taps; t++) i32[base + t * 4] = zero;
    }
  }
}

/**
 * Copies x [N, H, W, Ci] into `xp` [N, H, wp, Ci] at column offset padLeft, zeros around (plus 16 bytes of
 * slack after the end for kernels that read a few floats past a row).
 */
export function padRows(f32: Float32Array, xPtr: number, xp: number, g: ConvGeometry, wp: number): void {
  const { batch: n, inHeight: h, inWidth: w, inChannels: ci } = g;
  const dst0 = xp >>> 2;
  f32.fill(0, dst0, dst0 + n * h * wp * ci + 4);
  const src0 = xPtr >>> 2;
  for (let r = 0; r < n * h; r++) {
    const src = src0 + r * w * ci;
    f32.copyWithin(dst0 + (r * wp + g.padLeft) * ci, src, src + w * ci);
  }
}

/**
 * Indirection for merged taps (see {@link isMergeable}): the plain indirection over the padded input `xp`
 * with one tap per filter row, whose kw·Ci floats start at padded pixel (n, y, ox·sw).
 */
export function mergedIndirection(
  i32: Int32Array,
  at: number,
  g: ConvGeometry,
  xp: number,
  wp: number,
  zero: number,
  layout: 'groups' | 'pixels',
  rows: number,
): void {
  const rowsGeometry: ConvGeometry = { ...g, filterWidth: 1, dilationWidth: 1, padLeft: 0, inWidth: wp };
  indirection(i32, at, rowsGeometry, xp, g.inChannels * 4, zero, layout, rows);
}

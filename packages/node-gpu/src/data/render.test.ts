import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTransforms } from '@fastts/core';
import { imageGridSvg } from '@fastts/core/platform';
import { DORAEMON_WALLE } from '../../../../test-support/shared.js';
import { fromFolder, showBatch, svgToPng } from './index.js';
import { put, tempDir } from './test-images.test-util.js';

const tmp = tempDir();
afterAll(tmp.cleanup);
beforeAll(async () => {
  await tf.setBackend('wasm');
});

/** Mean RGB of a region of a PNG. */
async function regionMean(png: Buffer, left: number, top: number, width: number, height: number): Promise<number[]> {
  // (sharp's stats() would describe the whole input, not the extracted region)
  const raw = await sharp(png).extract({ left, top, width, height }).removeAlpha().raw().toBuffer();
  const sums = [0, 0, 0];
  for (let i = 0; i < raw.length; i++) sums[i % 3]! += raw[i]!;
  return sums.map((s) => s / (raw.length / 3));
}

describe('showBatch', () => {
  it('renders rows x rows augmented training images with their labels to a PNG', async () => {
    const data = await fromFolder(DORAEMON_WALLE, { size: 224, bs: 16, tfms: getTransforms(), seed: 3 });
    const file = `${tmp.dir}/batch.png`;
    const png = await showBatch(data, { rows: 3, path: file });
    const meta = await sharp(file).metadata();
    expect(meta.format).toBe('png');
    // 3 tiles of 224 px with 12 px gaps; each tile has a title line above it
    expect(meta.width).toBe(12 + 3 * (224 + 12));
    expect(meta.height).toBeGreaterThan(12 + 3 * (224 + 12));
    const { channels } = await sharp(png).stats();
    expect(channels[0]!.stdev).toBeGreaterThan(30); // real pictures, not a blank page
    // title text is drawn: dark pixels in the first title band, on the white background
    const title = await sharp(png).extract({ left: 12, top: 12, width: 224, height: 18 }).greyscale().raw().toBuffer();
    expect(Math.min(...title)).toBeLessThan(80);
  });

  it('shows photos upright (EXIF orientation applied) and undistorted', async () => {
    // stored landscape 120x80 with a red block at the stored top-left, EXIF orientation 6 (rotate 90° clockwise
    // to display): displayed 80x120 portrait with the block at the top-right
    const stored = Buffer.alloc(120 * 80 * 3, 40);
    for (let y = 0; y < 40; y++)
      for (let x = 0; x < 40; x++) stored.fill(0, (y * 120 + x) * 3, (y * 120 + x) * 3 + 3).writeUInt8(255, (y * 120 + x) * 3);
    const jpeg = await sharp(stored, { raw: { width: 120, height: 80, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    for (const split of ['train', 'valid']) for (const cls of ['a', 'b']) put(tmp.dir, `exif/${split}/${cls}/0.jpg`, jpeg);
    const data = await fromFolder(`${tmp.dir}/exif`, { size: 64, bs: 2 });
    const png = await showBatch(data, { rows: 1, ds: 'valid', path: `${tmp.dir}/exif.png` });
    // one 64 px tile at (12, 12 + title band); center crop of the 80x120 portrait resized to 64x96 keeps rows 16..79
    const meta = await sharp(png).metadata();
    const tileTop = meta.height! - 12 - 64;
    const topRight = await regionMean(png, 12 + 40, tileTop + 2, 20, 8);
    const topLeft = await regionMean(png, 12 + 4, tileTop + 2, 20, 8);
    // red at the top-right (JPEG chroma subsampling softens the block's colour), dark grey at the top-left
    expect(topRight[0]).toBeGreaterThan(150);
    expect(topRight[0]! - topRight[1]!).toBeGreaterThan(100);
    expect(topLeft[0]).toBeLessThan(80);
  });

  it('svgToPng rasterizes core image grids, titles escaped', async () => {
    const img = { data: new Uint8Array(10 * 20 * 3).fill(200), width: 20, height: 10 };
    const svg = imageGridSvg(
      [
        { image: img, title: 'a <b> & "c"' },
        { image: img, title: 'line 1\nline 2', titleColor: 'red' },
      ],
      { tileSize: 40 },
    );
    expect(svg).toContain('a &lt;b&gt; &amp; &quot;c&quot;');
    expect(svg.match(/<image /g)).toHaveLength(2);
    const png = await svgToPng(svg, { scale: 2 });
    const meta = await sharp(png).metadata();
    expect(meta.width).toBe(2 * (12 + 2 * (40 + 12)));
  });
});

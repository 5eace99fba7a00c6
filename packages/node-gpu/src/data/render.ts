/** Rasterizing core's SVG renderings to PNG with sharp (librsvg), and `showBatch`. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { platformReady, showBatchSvg, type ShowBatchOptions } from '@fastts/core/platform';
import { type DataBunch } from '@fastts/core';

/** Renders an SVG document (e.g. from `imageGridSvg`) to PNG bytes; `scale` 2 doubles the resolution. */
export async function svgToPng(svg: string, opts: { scale?: number } = {}): Promise<Buffer> {
  const scale = opts.scale ?? 1;
  return sharp(Buffer.from(svg), { density: 72 * scale, unlimited: true })
    .png()
    .toBuffer();
}

/** Options of {@link showBatch}. */
export interface ShowBatchPngOptions extends ShowBatchOptions {
  /** Also write the PNG to this file. */
  path?: string;
}

/**
 * fast.ai's `data.show_batch(rows=3)`: a PNG of rows x rows augmented training images titled with their classes.
 * Returns the PNG bytes (and writes them to `path` when given).
 */
export async function showBatch(data: DataBunch, opts: ShowBatchPngOptions = {}): Promise<Buffer> {
  await platformReady();
  const { path, ...rest } = opts;
  const png = await svgToPng(await showBatchSvg(data, rest));
  if (path) await writePng(path, png);
  return png;
}

/**
 * Writes a plot (an SVG document from core, e.g. `interp.plotConfusionMatrix()` or `interp.plotTopLosses(9)`) to
 * `path` as a PNG, the Node counterpart of fast.ai showing a figure. Returns `path`.
 * ```ts
 * await savePlot(interp.plotTopLosses(9), 'top_losses.png');
 * ```
 */
export async function savePlot(svg: string | Promise<string>, path: string, opts: { scale?: number } = {}): Promise<string> {
  await writePng(path, await svgToPng(await svg, opts));
  return path;
}

async function writePng(path: string, png: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, png);
}

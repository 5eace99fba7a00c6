/** fast.ai `show_batch(rows=3)`: a grid of augmented training images titled with their labels, as SVG. */
import type { DataBunch } from '../data/databunch.js';
import type { DataLoader } from '../data/dataloader.js';
import { imageGridSvg, type GridTile, type ImageGridOptions } from './image-grid.js';
import { tensorToImages } from './png.js';

/** Options of {@link showBatchSvg}. */
export interface ShowBatchOptions extends Omit<ImageGridOptions, 'cols'> {
  /** Rows (and columns) of the grid: rows x rows images. Default 3. */
  rows?: number;
  /** Which loader to show. Default 'train' (with its augmentation). */
  ds?: 'train' | 'valid' | 'test';
}

/** Collects `count` un-normalized images from a new pass over `dl`, with their titles. */
export async function batchTiles(dl: DataLoader, count: number): Promise<GridTile[]> {
  const tiles: GridTile[] = [];
  for await (const { x, y, indices } of dl.iterate({ normalize: false, pass: dl.sidePass() })) {
    const images = await tensorToImages(x);
    x.dispose();
    y.dispose();
    images.forEach((image, k) => {
      if (tiles.length < count) tiles.push({ image, title: dl.dataset.labelName(indices[k]!) ?? '(unlabelled)' });
    });
    if (tiles.length >= count) break;
  }
  return tiles;
}

/**
 * The SVG of `rows x rows` images of one batch (augmented for 'train'), each titled with its class, as fast.ai's
 * `data.show_batch(rows=3)`. Node's `showBatch` turns it into a PNG.
 */
export async function showBatchSvg(data: DataBunch, opts: ShowBatchOptions = {}): Promise<string> {
  const rows = opts.rows ?? 3;
  if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`showBatch: rows must be a positive integer, got ${rows}`);
  const ds = opts.ds ?? 'train';
  const dl = ds === 'train' ? data.trainDl : ds === 'valid' ? data.validDl : data.testDl;
  if (!dl) throw new Error(`showBatch: this data bunch has no ${ds} set`);
  const tiles = await batchTiles(dl, rows * rows);
  const { rows: _rows, ds: _ds, ...grid } = opts;
  return imageGridSvg(tiles, { tileSize: Math.min(data.size, 256), ...grid, cols: rows });
}

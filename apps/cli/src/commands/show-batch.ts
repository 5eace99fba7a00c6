/** `fastts show-batch <dataDir>`: a grid of images with their labels, as the model will see them (fast.ai `show_batch`). */
import { resolve } from 'node:path';
import { showBatch } from '@fastts/node-gpu';
import { setupCliBackend } from '../backend.js';
import type { CommandContext } from '../context.js';
import { displayPath } from '../paths.js';
import { loadData, resolveDataSettings } from '../data.js';
import type { ShowBatchOptions } from '../options.js';
import { prepareOutputFile } from '../run-dir.js';

/** Runs `fastts show-batch`. */
export async function runShowBatch(dataDir: string, options: ShowBatchOptions, ctx: CommandContext): Promise<void> {
  const { io, reporter } = ctx;
  const settings = resolveDataSettings(dataDir, options, io.cwd);
  delete settings.test;
  const out = prepareOutputFile(resolve(io.cwd, options.out));
  // Light tensor work (decoding, rendering, copying weights): the CPU path, no GPU probing.
  await setupCliBackend({ backend: 'wasm' }, reporter);
  const data = await loadData(settings, reporter);
  await showBatch(data, { rows: options.rows, ds: options.ds, path: out });
  const shown = Math.min(options.rows * options.rows, options.ds === 'train' ? data.trainDl.n : data.validDl.n);
  reporter.result({ out, rows: options.rows, ds: options.ds, images: shown, classes: data.classes });
  reporter.out(
    `wrote ${displayPath(io.cwd, out)}: ${shown} ${options.ds} image${shown === 1 ? '' : 's'}, classes ${data.classes.join(', ')}`,
  );
}

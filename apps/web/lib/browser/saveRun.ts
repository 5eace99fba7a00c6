/**
 * Saves a run trained in the browser to the dashboard's runs directory (`POST /api/runs`), with small JPEG
 * thumbnails of the validation images so that its run page shows them like a CLI run's.
 */
import { jsonLines, runConfigText, type RunConfig } from '@fastts/core/runs';
import type { BatchRecord, EpochMetrics } from '../../src/server/runTypes';
import type { BrowserTrainOptions, BrowserTrainResult, RelFile } from './train';

/** A 96x96 center-cropped JPEG of an image file. */
export async function thumbnail(file: Blob, side = 96): Promise<Blob> {
  const bmp = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const s = Math.min(bmp.width, bmp.height);
  const canvas = new OffscreenCanvas(side, side);
  canvas.getContext('2d')!.drawImage(bmp, (bmp.width - s) / 2, (bmp.height - s) / 2, s, s, 0, 0, side, side);
  bmp.close();
  return canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
}

export interface SaveRunInput {
  options: BrowserTrainOptions;
  result: BrowserTrainResult;
  files: RelFile[];
  /** The validation item files, by item index (for thumbnails). */
  itemFiles: (Blob | null)[];
  batches: BatchRecord[];
  metrics: EpochMetrics[];
  dataset: string;
}

/** Uploads the run; resolves to the new run's id. */
export async function saveRun(input: SaveRunInput): Promise<string> {
  const { options, result } = input;
  const form = new FormData();
  // The run format's config (as `fastts train` writes it), for a run trained in this browser.
  const config: RunConfig = {
    source: 'browser',
    createdAt: new Date().toISOString(),
    arch: options.arch,
    dataset: input.dataset,
    size: options.size,
    bs: options.bs,
    seed: options.seed,
    validPct: options.validPct,
    epochs: options.epochs,
    lr: String(options.maxLr),
    unfreezeEpochs: options.unfreezeEpochs ?? 0,
    ...(options.unfreezeLr ? { unfreezeLr: `${options.unfreezeLr[0]}:${options.unfreezeLr[1]}` } : {}),
    backend: options.backend,
    backendUsed: result.backend,
    classes: result.classes,
    nTrain: result.counts.train,
    nValid: result.counts.valid,
  };
  form.set('config', runConfigText(config));
  form.set('metrics', jsonLines(input.metrics));
  form.set('batches', jsonLines(input.batches));
  const items = result.interpretation.items.map((it) => ({ ...it, thumb: null }));
  form.set('interpretation', JSON.stringify({ ...result.interpretation, items }));
  form.set('model', new Blob([result.exportBytes as BlobPart], { type: 'application/octet-stream' }), result.exportName);
  for (const [i, f] of input.itemFiles.entries()) {
    if (f) form.set(`thumb:${i}`, await thumbnail(f), `${i}.jpg`);
  }
  const res = await fetch('/api/runs', { method: 'POST', body: form });
  const body = (await res.json().catch(() => ({}))) as { id?: string; error?: string };
  if (!res.ok || !body.id) throw new Error(`saving the run failed: ${body.error ?? res.status}`);
  return body.id;
}

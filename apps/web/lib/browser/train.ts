/**
 * fast.ai's recipe in the browser: a DataBunch from dropped files, a pretrained CNN whose weights the dashboard
 * serves from the cache, `fitOneCycle`, the interpretation, and the export, reporting every batch and epoch.
 */
import type { BatchRecord, EpochMetrics, Interpretation } from '../../src/server/runTypes';
import { modelFileUrl } from '../urls';
import type { FitLearner, PretrainedWeights } from '@fastts/webgpu';
import { ensureBackend, fastts, fetchBytes, type BackendChoice, type FasttsWeb } from './engine';

/** A dropped/picked file with its path relative to what was dropped. */
export interface RelFile {
  path: string;
  file: Blob;
}

export interface BrowserTrainOptions {
  arch: string;
  size: number;
  bs: number;
  epochs: number;
  /** fitOneCycle's max learning rate (of the head; the body gets it too while frozen). */
  maxLr: number;
  /** Epochs with the whole network unfrozen after the frozen ones (fast.ai's second stage; 0 to skip). */
  unfreezeEpochs?: number;
  /** Learning rates of the unfrozen stage, first and last layer group (fast.ai's slice(1e-5, 3e-4)). */
  unfreezeLr?: [number, number];
  /** Fraction held out for validation when the folder has no `valid/`. */
  validPct: number;
  seed: number;
  backend: BackendChoice;
}

export interface BrowserTrainEvents {
  status(line: string): void;
  batch(b: BatchRecord): void;
  epoch(m: EpochMetrics): void;
}

export interface BrowserTrainResult {
  classes: string[];
  interpretation: Interpretation;
  exportName: string;
  exportBytes: Uint8Array;
  backend: string;
  seconds: number;
  /** Images in the train / valid sets. */
  counts: { train: number; valid: number };
  /** The dropped file of each validation item (by item index), when found. */
  itemFiles: (Blob | null)[];
}

/** How a dropped folder is laid out: its root, and whether it has `train/`, `valid/`, `test/` under it. */
export function describeLayout(paths: readonly string[]): {
  root: string;
  train: boolean;
  valid: boolean;
  test: boolean;
  labels: string[];
} {
  const split = paths.map((p) => p.split('/'));
  let depth = 0;
  // The data set's root: the deepest folder common to every file.
  while (split.length && split.every((s) => s.length > depth + 1 && s[depth] === split[0]![depth])) depth++;
  // Only a train/ (or valid/) folder below the root: the root is its parent.
  if (depth > 0 && ['train', 'valid', 'test'].includes(split[0]![depth - 1]!)) depth--;
  const root = split[0]?.slice(0, depth).join('/') ?? '';
  const firsts = new Set(split.map((s) => s[depth] ?? ''));
  const train = firsts.has('train');
  const labelsFrom = split.filter((s) => (train ? s[depth] === 'train' : true)).map((s) => s[train ? depth + 1 : depth] ?? '');
  return {
    root,
    train,
    valid: firsts.has('valid'),
    test: firsts.has('test'),
    labels: [...new Set(labelsFrom)].filter((l) => l && !/\.[a-z]+$/i.test(l)).sort(),
  };
}

/** The pretrained weights of `arch`, read from the dashboard's weight-cache routes. */
async function loadPretrainedOverHttp(f: FasttsWeb, arch: string): Promise<PretrainedWeights> {
  const res = await fetch(`/api/models/${encodeURIComponent(arch)}`);
  if (!res.ok) throw new Error(`no pretrained weights for ${arch} in the server's weight cache (FASTTS_HOME/models/${arch})`);
  const { files } = (await res.json()) as { files: string[] };
  if (files.includes('model.json')) {
    const json = JSON.parse(
      new TextDecoder().decode(await fetchBytes(modelFileUrl(arch, 'model.json'), `${arch}/model.json`)),
    ) as Parameters<FasttsWeb['pretrainedFromLayersModel']>[1];
    return f.pretrainedFromLayersModel(
      arch,
      json,
      (p) => fetchBytes(modelFileUrl(arch, p), `${arch}/${p}`),
      modelFileUrl(arch, 'model.json'),
    );
  }
  const single = files.find((x) => x.endsWith('.safetensors') || x.endsWith('.pth'));
  if (!single) throw new Error(`the weight cache folder of ${arch} has no model.json, .safetensors or .pth`);
  return f.pretrainedFromBytes(
    arch,
    await fetchBytes(modelFileUrl(arch, single), `${arch}/${single}`),
    modelFileUrl(arch, single),
  );
}

/** Trains a classifier on `files` in this browser. `signal` stops it at the end of the current batch. */
export async function trainInBrowser(
  files: RelFile[],
  o: BrowserTrainOptions,
  ev: BrowserTrainEvents,
  signal?: AbortSignal,
): Promise<BrowserTrainResult> {
  const t0 = performance.now();
  ev.status('starting the backend…');
  const report = await ensureBackend(o.backend);
  const f = await fastts();
  const layout = describeLayout(files.map((x) => x.path));
  ev.status(`reading ${files.length} images…`);
  const data = await f.fromFiles(files, {
    root: layout.root,
    size: o.size,
    bs: o.bs,
    seed: o.seed,
    tfms: f.getTransforms(),
    ...(layout.train && layout.valid ? {} : { validPct: o.validPct }),
    ...(layout.test ? { test: 'test' } : {}),
    onWarning: (w) => ev.status(`warning: ${w.message}`),
  });
  ev.status(`downloading the pretrained ${o.arch} weights…`);
  const weights = await loadPretrainedOverHttp(f, o.arch);
  const storage = new f.MemoryStorage();
  const learn = await f.cnnLearner(data, o.arch, { weights, metrics: [f.accuracy], storage, quiet: true });
  weights.dispose(); // cnnLearner copied them into the model
  let iter = 0;
  let phase = 'frozen';
  let epochStart = performance.now();
  learn.callbacks.push({
    name: 'DashboardLive',
    order: 100,
    beforeEpoch: () => {
      epochStart = performance.now();
    },
    afterBatch: (l: FitLearner) => {
      if (!l.training) return;
      ev.batch({
        iter: iter++,
        epoch: l.epoch,
        phase,
        loss: l.loss,
        lr: l.opt.lrs.at(-1) ?? null,
        mom: l.opt.moms.at(-1) ?? null,
      });
    },
    afterEpoch: (l: FitLearner) => {
      const v = l.lastValidation;
      const acc = v?.metrics[l.metricNames().indexOf('accuracy')] ?? null;
      ev.epoch({
        epoch: l.epoch,
        phase,
        train_loss: l.recorder.lastRow?.trainLoss ?? null, // fast.ai's smoothed training loss
        valid_loss: v?.loss ?? null,
        accuracy: acc,
        error_rate: acc === null ? null : 1 - acc,
        seconds: (performance.now() - epochStart) / 1000,
      });
    },
  });
  ev.status(`training ${o.arch} on ${report.description}…`);
  await learn.fitOneCycle(o.epochs, { maxLr: o.maxLr, ...(signal ? { signal } : {}) });
  if ((o.unfreezeEpochs ?? 0) > 0 && !signal?.aborted) {
    // fast.ai's second stage: unfreeze, then discriminative learning rates across the layer groups.
    const [lo, hi] = o.unfreezeLr ?? [1e-5, 3e-4];
    phase = 'unfrozen';
    learn.unfreeze();
    ev.status(`training the unfrozen ${o.arch} (lr ${lo}..${hi})…`);
    await learn.fitOneCycle(o.unfreezeEpochs!, { maxLr: f.slice(lo, hi), ...(signal ? { signal } : {}) });
  }
  ev.status('interpreting the validation set…');
  const interp = await f.ClassificationInterpretation.fromLearner(learn);
  const byPath = new Map(files.map((x) => [x.path, x.file]));
  const fileFor = (item: string | undefined): Blob | null => {
    if (!item) return null;
    return byPath.get(item) ?? [...byPath].find(([p]) => p.endsWith(item) || item.endsWith(p))?.[1] ?? null;
  };
  const itemFiles = Array.from(interp.targets, (_, i) => fileFor(interp.items?.[i]));
  const items = Array.from(interp.targets, (actual, i) => {
    const pred = interp.predClass[i]!;
    const f = itemFiles[i];
    return {
      index: i,
      file: interp.items?.[i] ?? `item ${i}`,
      thumb: f ? URL.createObjectURL(f) : null,
      actual,
      pred,
      loss: interp.losses[i]!,
      prob: interp.probs[i * interp.c + pred]!,
      probActual: interp.probs[i * interp.c + actual]!,
    };
  });
  ev.status('exporting the model…');
  const exportPath = await learn.export('export.safetensors');
  const exportBytes = await storage.readFile(exportPath);
  await learn.dispose();
  return {
    classes: data.classes,
    interpretation: {
      classes: data.classes,
      confusion: interp.confusionMatrix(),
      items,
      topLosses: interp.topLosses(Math.min(9, items.length)).indices,
    },
    exportName: 'export.safetensors',
    exportBytes,
    backend: report.description,
    seconds: (performance.now() - t0) / 1000,
    counts: { train: data.trainDl.items.length, valid: data.validDl.items.length },
    itemFiles,
  };
}

/**
 * fast.ai's recipe in the browser: a DataBunch from dropped files, a pretrained CNN whose weights the dashboard
 * serves from the cache, `fitOneCycle`, the interpretation, and the export, reporting every batch and epoch.
 */
import type { BatchRecord, EpochMetrics, Interpretation } from '../../src/server/runTypes';
import { modelFileUrl } from '../urls';
import { ensureBackend, fastts, fetchBytes, type BackendChoice } from './engine';
import type { FasttsWeb } from './fasttsApi';

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
export function describeLayout(paths: readonly string[]): { root: string; train: boolean; valid: boolean; test: boolean; labels: string[] } {
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
  return { root, train, valid: firsts.has('valid'), test: firsts.has('test'), labels: [...new Set(labelsFrom)].filter((l) => l && !/\.[a-z]+$/i.test(l)).sort() };
}

/** The pretrained weights of `arch`, read from the dashboard's weight-cache routes. */
async function loadPretrainedOverHttp(f: FasttsWeb, arch: string): Promise<unknown> {
  const res = await fetch(`/api/models/${encodeURIComponent(arch)}`);
  if (!res.ok) throw new Error(`no pretrained weights for ${arch} in the server's weight cache (FASTTS_HOME/models/${arch})`);
  const { files } = (await res.json()) as { files: string[] };
  if (files.includes('model.json')) {
    const json = JSON.parse(new TextDecoder().decode(await fetchBytes(modelFileUrl(arch, 'model.json'), `${arch}/model.json`))) as object;
    const fromLayers = f.pretrainedFromLayersModel as (a: string, j: object, load: (p: string) => Promise<Uint8Array>, src: string) => Promise<unknown>;
    return fromLayers(arch, json, (p) => fetchBytes(modelFileUrl(arch, p), `${arch}/${p}`), modelFileUrl(arch, 'model.json'));
  }
  const single = files.find((x) => x.endsWith('.safetensors') || x.endsWith('.pth'));
  if (!single) throw new Error(`the weight cache folder of ${arch} has no model.json, .safetensors or .pth`);
  const fromBytes = f.pretrainedFromBytes as (a: string, b: Uint8Array, src: string) => unknown;
  return fromBytes(arch, await fetchBytes(modelFileUrl(arch, single), `${arch}/${single}`), modelFileUrl(arch, single));
}

type Learn = {
  unfreeze(): void;
  recorder?: { lastRow?: { trainLoss: number } };
  fitOneCycle(epochs: number, o?: Record<string, unknown>): Promise<unknown>;
  export(fname?: string): Promise<string>;
  callbacks: unknown[];
  storage: unknown;
  epoch: number;
  training: boolean;
  loss: number;
  opt?: { lrs: number[]; moms: number[] };
  lastValidation?: { loss: number; metrics: number[] };
  metricNames(): string[];
  dispose?(): Promise<void>;
};

function need<T>(f: FasttsWeb, name: string): T {
  const v = f[name];
  if (v === undefined) throw new Error(`this build of @fastts/core has no ${name} yet: in-browser training needs it`);
  return v as T;
}

/** Trains a classifier on `files` in this browser. `signal` stops it at the end of the current batch. */
export async function trainInBrowser(files: RelFile[], o: BrowserTrainOptions, ev: BrowserTrainEvents, signal?: AbortSignal): Promise<BrowserTrainResult> {
  const t0 = performance.now();
  ev.status('starting the backend…');
  const report = await ensureBackend(o.backend);
  const f = await fastts();
  const layout = describeLayout(files.map((x) => x.path));
  ev.status(`reading ${files.length} images…`);
  const fromFiles = need<(files: RelFile[], o: Record<string, unknown>) => Promise<{ classes: string[]; trainDl: { items: string[] }; validDl: { items: string[] } }>>(f, 'fromFiles');
  const getTransforms = need<() => unknown>(f, 'getTransforms');
  const data = await fromFiles(files, {
    root: layout.root,
    size: o.size,
    bs: o.bs,
    seed: o.seed,
    tfms: getTransforms(),
    ...(layout.train && layout.valid ? {} : { validPct: o.validPct }),
    ...(layout.test ? { test: 'test' } : {}),
    onWarning: (w: { message?: string }) => ev.status(`warning: ${w.message ?? String(w)}`),
  });
  ev.status(`downloading the pretrained ${o.arch} weights…`);
  const weights = await loadPretrainedOverHttp(f, o.arch);
  const cnnLearner = need<(d: unknown, arch: string, o: Record<string, unknown>) => Promise<Learn>>(f, 'cnnLearner');
  const learn = await cnnLearner(data, o.arch, { weights, metrics: [f.accuracy] });
  (weights as { dispose?: () => void }).dispose?.(); // cnnLearner copied them into the model
  const storage = new f.MemoryStorage();
  learn.storage = storage;
  let iter = 0;
  let phase = 'frozen';
  let epochStart = performance.now();
  learn.callbacks.push({
    name: 'DashboardLive',
    order: 100,
    beforeEpoch: () => {
      epochStart = performance.now();
    },
    afterBatch: (l: Learn) => {
      if (!l.training) return;
      ev.batch({ iter: iter++, epoch: l.epoch, phase, loss: l.loss, lr: l.opt?.lrs.at(-1) ?? null, mom: l.opt?.moms.at(-1) ?? null });
    },
    afterEpoch: (l: Learn) => {
      const v = l.lastValidation;
      const acc = v?.metrics[l.metricNames().indexOf('accuracy')] ?? null;
      ev.epoch({
        epoch: l.epoch,
        phase,
        train_loss: l.recorder?.lastRow?.trainLoss ?? null, // fast.ai's smoothed training loss
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
    const slice = need<(lo: number, hi: number) => unknown>(f, 'slice');
    const [lo, hi] = o.unfreezeLr ?? [1e-5, 3e-4];
    phase = 'unfrozen';
    learn.unfreeze();
    ev.status(`training the unfrozen ${o.arch} (lr ${lo}..${hi})…`);
    await learn.fitOneCycle(o.unfreezeEpochs!, { maxLr: slice(lo, hi), ...(signal ? { signal } : {}) });
  }
  ev.status('interpreting the validation set…');
  const CI = need<{ fromLearner(l: Learn): Promise<{ confusionMatrix(): number[][]; losses: Float32Array; predClass: Int32Array; targets: Int32Array; probs: Float32Array; c: number; items?: readonly string[]; topLosses(k: number): { indices: number[] } }> }>(
    f,
    'ClassificationInterpretation',
  );
  const interp = await CI.fromLearner(learn);
  const byPath = new Map(files.map((x) => [x.path, x.file]));
  const fileFor = (item: string | undefined): Blob | null => {
    if (!item) return null;
    return byPath.get(item) ?? [...byPath].find(([p]) => p.endsWith(item) || item.endsWith(p))?.[1] ?? null;
  };
  const itemFiles = Array.from(interp.targets, (_, i) => fileFor(interp.items?.[i]));
  const items = Array.from(interp.targets, (actual, i) => {
    const pred = interp.predClass[i]!;
    const f = itemFiles[i];
    return { index: i, file: interp.items?.[i] ?? `item ${i}`, thumb: f ? URL.createObjectURL(f) : null, actual, pred, loss: interp.losses[i]!, prob: interp.probs[i * interp.c + pred]!, probActual: interp.probs[i * interp.c + actual]! };
  });
  ev.status('exporting the model…');
  const exportPath = await learn.export('export.safetensors');
  const exportBytes = await storage.readFile(exportPath);
  await learn.dispose?.();
  return {
    classes: data.classes,
    interpretation: { classes: data.classes, confusion: interp.confusionMatrix(), items, topLosses: interp.topLosses(Math.min(9, items.length)).indices },
    exportName: 'export.safetensors',
    exportBytes,
    backend: report.description,
    seconds: (performance.now() - t0) / 1000,
    counts: { train: data.trainDl.items.length, valid: data.validDl.items.length },
    itemFiles,
  };
}

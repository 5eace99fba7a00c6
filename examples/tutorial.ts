/**
 * The reference fast.ai tutorial on doraemon-walle, end to end (`npm run tutorial`):
 *
 *   data  = ImageDataBunch.from_folder(path, test='test', ds_tfms=get_transforms(), size=224)
 *   learn = cnn_learner(data, models.resnet34, metrics=accuracy)
 *   learn.fit_one_cycle(1)
 *   interp = ClassificationInterpretation.from_learner(learn)   # most confused, top losses, confusion matrix
 *   preds, _ = learn.get_preds(ds_type=DatasetType.Test)
 *   learn.unfreeze(); learn.fit_one_cycle(3, max_lr=slice(1e-5, 3e-4))
 *
 * Options: --arch <name> (default: resnet34 when its weights can be had, else the best cached ImageNet model),
 * --size <px> (224), --bs <n> (64), --frozen-epochs <n> (1), --epochs <n> (3), --data <folder>, --out <folder>
 * (runs/tutorial), --backend <auto|wasm|cpu|...>, --threads <n> (compute threads; default all cores),
 * --parallel <auto|on|off> (train on worker threads, one wasm replica per thread; auto: on the wasm backend),
 * --seed <n> (42), --json (also print a JSON summary), --verbose (a line per batch when not on a terminal).
 * Ctrl-C stops at the end of the current batch and leaves `<out>/models/interrupted.safetensors`.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as fastts from '@fastts/node-gpu';
import {
  ClassificationInterpretation,
  FitInterruptedError,
  ImageDataLoaders,
  PretrainedUnavailableError,
  accuracy,
  cnnLearner,
  getTransforms,
  loadPretrained,
  showBatch,
  slice,
  svgToPng,
  tableReporter,
  type PretrainedWeights,
  type ProgressReporter,
  type VisionLearner,
} from '@fastts/node-gpu';
import { nodeStorage } from './node-storage.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = resolve(process.env.FASTTS_SHARED ?? join(REPO_ROOT, '..', 'shared'));

/** ImageNet models in order of preference (resnet34 as in the reference, then by published top-1 accuracy). */
const PREFERRED_ARCHS = ['resnet34', 'resnet50-keras', 'mobilenet_v1_0.75_224', 'mobilenet_v1_0.25_224'];

const { values: args } = parseArgs({
  options: {
    arch: { type: 'string' },
    size: { type: 'string', default: '224' },
    bs: { type: 'string', default: '64' },
    'frozen-epochs': { type: 'string', default: '1' },
    epochs: { type: 'string', default: '3' },
    data: { type: 'string', default: join(SHARED, 'datasets', 'doraemon-walle') },
    out: { type: 'string', default: join(REPO_ROOT, 'runs', 'tutorial') },
    backend: { type: 'string', default: 'auto' },
    threads: { type: 'string' },
    parallel: { type: 'string', default: 'auto' },
    seed: { type: 'string', default: '42' },
    json: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});

const log = (s = ''): void => console.log(s);
const int = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a whole number, got "${v}"`);
    process.exit(2);
  }
  return n;
};

/** The backend: the Node platform's choice (a GPU, else wasm with XNNPACK and SIMD on every core). */
async function chooseBackend(): Promise<string> {
  const backend = args.backend as fastts.NodeBackendName;
  const res = await fastts.setupBackend({ backend, ...(args.threads ? { threads: int('threads', args.threads) } : {}) });
  return res.description;
}

/** Pretrained weights of the requested arch, or of the best cached one, saying why when it falls back. */
async function chooseWeights(): Promise<{ arch: string; weights: PretrainedWeights }> {
  if (!process.env.FASTTS_HOME && !existsSync(join(fastts.fasttsHome(), 'models')) && existsSync(join(SHARED, 'models'))) {
    process.env.FASTTS_HOME = SHARED; // the pre-filled weight cache of this machine
  }
  const wanted = args.arch ? [args.arch] : PREFERRED_ARCHS;
  for (const arch of wanted) {
    try {
      const weights = await loadPretrained(arch);
      return { arch, weights };
    } catch (e) {
      if (!(e instanceof PretrainedUnavailableError) || args.arch) throw e;
      log(`${arch}: its ImageNet weights are not in the cache (${fastts.fasttsHome()}) and cannot be downloaded here:`);
      log(`  ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`none of ${wanted.join(', ')} has weights in ${fastts.fasttsHome()}`);
}

/** fast.ai's output while fitting: a progress bar per epoch (on a terminal) and the epoch table. */
function reporter(): ProgressReporter {
  const table = tableReporter(log);
  const tty = process.stderr.isTTY;
  let last = Date.now();
  return (e) => {
    if (e.type === 'batch' && !tty && args.verbose) {
      const now = Date.now();
      const loss = e.loss !== undefined ? ` loss ${e.loss.toFixed(4)}` : '';
      process.stderr.write(`  ${e.phase} batch ${e.iter + 1}/${e.nIter}${loss} (${((now - last) / 1000).toFixed(1)} s)\n`);
      last = now;
      return;
    }
    if (e.type === 'batch' && tty) {
      const width = 30;
      const done = Math.round((width * (e.iter + 1)) / Math.max(1, e.nIter));
      const loss = e.loss !== undefined ? ` loss ${e.loss.toFixed(4)}` : '';
      process.stderr.write(`\r${'█'.repeat(done)}${'-'.repeat(width - done)} ${e.phase} ${e.iter + 1}/${e.nIter}${loss}   `);
      return;
    }
    if (tty && (e.type === 'epoch' || e.type === 'end')) process.stderr.write('\r\x1b[K');
    table(e);
  };
}

function correctByName(file: string, cls: string): boolean {
  return basename(file).toLowerCase().startsWith(cls.toLowerCase());
}

async function testPredictions(learn: VisionLearner, title: string): Promise<{ file: string; label: string; probability: number; correct: boolean }[]> {
  const { probs, preds, items } = await learn.getPreds({ ds: 'test' });
  log(`\n${title}`);
  const rows = items.map((file, i) => {
    const label = learn.data.classes[preds[i]!]!;
    return { file: basename(file), label, probability: probs[i]![preds[i]!]!, correct: correctByName(file, label) };
  });
  for (const r of rows) log(`  ${r.file.padEnd(18)} ${r.label.padEnd(10)} ${r.probability.toFixed(4)}  ${r.correct ? 'right' : 'WRONG'}`);
  log(`  ${rows.filter((r) => r.correct).length}/${rows.length} right (the file name says the truth)`);
  return rows;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const size = int('size', args.size);
  const bs = int('bs', args.bs);
  const frozenEpochs = int('frozen-epochs', args['frozen-epochs']);
  const epochs = int('epochs', args.epochs);
  const out = resolve(args.out!);
  await mkdir(out, { recursive: true });
  log(`backend: ${await chooseBackend()}`);

  const data = await ImageDataLoaders.fromFolder(args.data!, { test: 'test', tfms: getTransforms(), size, bs, seed: int('seed', args.seed) });
  log(data.toString());
  await showBatch(data, { rows: 3, path: join(out, 'batch.png') });
  log(`show_batch(rows=3): ${join(out, 'batch.png')}`);

  // Training steps on worker threads (one single-threaded wasm replica per thread, micro-batches sized to its heap;
  // with one thread the main thread still decodes, augments and updates while the worker computes).
  if (args.parallel !== 'off' && tf.getBackend() === 'wasm') {
    const workers = args.threads ? int('threads', args.threads) : cpus().length;
    fastts.registerTrainStepFactory(fastts.visionDataParallelSteps({ workers, log, required: args.parallel === 'on' }));
  } else if (args.parallel === 'on') {
    console.error(`--parallel on needs the wasm backend (this run uses ${tf.getBackend()})`);
    process.exit(2);
  }
  const { arch, weights } = await chooseWeights();
  const learn = await cnnLearner(data, arch, {
    metrics: [accuracy],
    weights,
    reporter: reporter(),
    path: out,
    storage: nodeStorage(),
  });
  weights.dispose();
  log(`\ncnn_learner(data, ${arch}, metrics=accuracy): ${learn.trainableParameterNames().length} of ${learn.model.namedParameters().length} parameter tensors trainable (body frozen, BatchNorm trainable)`);

  // Ctrl-C: stop at the end of the batch and save a checkpoint. A terminal sends SIGINT to the whole process group
  // (npm, tsx and this process), so repeats within 3 s are the same keypress; a later one exits at once.
  const abort = new AbortController();
  let firstSigint = 0;
  process.on('SIGINT', () => {
    if (!abort.signal.aborted) {
      firstSigint = Date.now();
      log('\nCtrl-C: stopping at the end of this batch (press Ctrl-C again to quit at once)...');
      abort.abort();
    } else if (Date.now() - firstSigint > 3000) {
      process.exit(130);
    }
  });

  const times: Record<string, number> = {};
  let t = Date.now();
  log(`\nlearn.fit_one_cycle(${frozenEpochs})`);
  await learn.fitOneCycle(frozenEpochs, { signal: abort.signal });
  times.frozen = (Date.now() - t) / 1000;
  const frozenAcc = learn.recorder.lastRow?.metrics.accuracy ?? Number.NaN;
  await learn.save('stage-1');

  const interp = await ClassificationInterpretation.fromLearner(learn);
  log('\ninterp.most_confused(min_val=1):');
  const confused = interp.mostConfused(1);
  log(confused.length ? confused.map(([a, p, n]) => `  actual ${a}, predicted ${p}: ${n}`).join('\n') : '  (none: every validation image is right)');
  log('interp.confusion_matrix() (rows actual, columns predicted):');
  const cm = interp.confusionMatrix();
  const w = Math.max(...data.classes.map((c) => c.length)) + 2;
  log(`  ${''.padEnd(w)}${data.classes.map((c) => c.padStart(w)).join('')}`);
  cm.forEach((row, i) => log(`  ${data.classes[i]!.padEnd(w)}${row.map((v) => String(v).padStart(w)).join('')}`));
  log('interp.top_losses(9):');
  for (const tl of interp.topLossItems(9)) log(`  ${basename(tl.item ?? '?').padEnd(22)} ${interp.title(tl)}`);
  await writeFile(join(out, 'top_losses.png'), await svgToPng(await interp.plotTopLosses(9)));
  await writeFile(join(out, 'confusion_matrix.png'), await svgToPng(interp.plotConfusionMatrix(), { scale: 2 }));
  log(`plots: ${join(out, 'top_losses.png')}, ${join(out, 'confusion_matrix.png')}`);

  const before = await testPredictions(learn, "learn.get_preds(ds_type=DatasetType.Test), after the frozen epoch:");

  learn.unfreeze();
  t = Date.now();
  log(`\nlearn.unfreeze(); learn.fit_one_cycle(${epochs}, max_lr=slice(1e-5, 3e-4))`);
  await learn.fitOneCycle(epochs, { maxLr: slice(1e-5, 3e-4), signal: abort.signal });
  times.unfrozen = (Date.now() - t) / 1000;
  const finalAcc = learn.recorder.lastRow?.metrics.accuracy ?? Number.NaN;
  const after = await testPredictions(learn, 'Test predictions after fine-tuning:');
  const exported = await learn.export();
  log(`\nexported for inference: ${exported}`);
  const total = (Date.now() - t0) / 1000;
  log(`wall time: ${total.toFixed(1)} s (frozen fit ${times.frozen!.toFixed(1)} s, unfrozen fit ${times.unfrozen!.toFixed(1)} s)`);
  if (args.json) {
    log(
      JSON.stringify({
        arch,
        size,
        bs,
        backend: tf.getBackend(),
        trainStep: learn.trainStep.name,
        frozenAccuracy: frozenAcc,
        finalAccuracy: finalAcc,
        testBefore: before,
        testAfter: after,
        mostConfused: confused,
        seconds: { total, ...times },
      }),
    );
  }
  await learn.dispose();
}

main().catch((e: unknown) => {
  if (e instanceof FitInterruptedError) {
    console.error(e.message);
    process.exit(130);
  }
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  process.exit(1);
});

/**
 * The reference fast.ai tutorial on doraemon-walle (`npm run tutorial`): the seed's notebook
 * (wshuyi/demo-image-classification-fastai, fast.ai 1.0), line for line in camelCase:
 *
 *   data = ImageDataBunch.from_folder(path, test='test', ds_tfms=get_transforms(), size=224)
 *   data.show_batch(rows=3, figsize=(10,10))
 *   learn = ConvLearner(data, models.resnet34, metrics=accuracy)
 *   learn.fit_one_cycle(1)
 *   interp = ClassificationInterpretation(...)  # plot_top_losses(9), plot_confusion_matrix()
 *   preds,y = learn.get_preds(is_test=True)
 *   learn.unfreeze()
 *   learn.fit_one_cycle(3, slice(1e-5,3e-4))
 *   preds,y = learn.get_preds(is_test=True)
 *
 * Everything else — the backend (a GPU, else wasm on every core with data-parallel workers), downloading the data
 * set and resnet34's weights on first use, the progress bar and epoch table, Ctrl-C stopping at the end of a batch
 * with a checkpoint — is what importing `@fastts/node-gpu` binds.
 *
 * Options: --data <folder> (default ../shared/datasets/doraemon-walle when it exists, else untarData downloads it),
 * --arch <name> (default resnet34; when its weights cannot be had, the best cached ImageNet model), --size <px>
 * (224), --bs <n> (64), --frozen-epochs <n> (1), --epochs <n> (3), --out <folder> (runs/tutorial), --seed <n> (42),
 * --backend <auto|wasm|cpu|...>, --threads <n>, --json (also print a JSON summary).
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ClassificationInterpretation,
  ConvLearner,
  ImageDataBunch,
  URLs,
  accuracy,
  configure,
  getTransforms,
  models,
  pickPretrained,
  savePlot,
  showBatch,
  slice,
  untarData,
  type NodeBackendName,
  type Predictions,
} from '@fastts/node-gpu';

// ---- arguments and their defaults (this workspace's ../shared data and weights when they are there)
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = resolve(process.env.FASTTS_SHARED ?? join(REPO, '..', 'shared'));
const { values: a } = parseArgs({
  options: {
    data: { type: 'string' },
    arch: { type: 'string' },
    size: { type: 'string', default: '224' },
    bs: { type: 'string', default: '64' },
    'frozen-epochs': { type: 'string', default: '1' },
    epochs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '42' },
    threads: { type: 'string' },
    out: { type: 'string', default: join(REPO, 'runs', 'tutorial') },
    backend: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const num = (name: keyof typeof a): number => {
  const v = Number(a[name]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a whole number, got "${String(a[name])}"`);
  return v;
};
const [size, bs, frozenEpochs, epochs, seed, out] = [
  num('size'),
  num('bs'),
  num('frozen-epochs'),
  num('epochs'),
  num('seed'),
  resolve(a.out!),
];
configure({ ...(a.backend ? { backend: a.backend as NodeBackendName } : {}), ...(a.threads ? { threads: num('threads') } : {}) });
if (!process.env.FASTTS_HOME && existsSync(join(SHARED, 'models'))) process.env.FASTTS_HOME = SHARED; // this workspace's weight cache
const sharedData = join(SHARED, 'datasets', 'doraemon-walle');
process.on('uncaughtException', (e) => {
  console.error(`${e.name}: ${e.message}`); // one line, no stack trace
  process.exit(1);
});
/** Prints the test predictions; the file name says the truth (`walle.113.jpg`). */
const show = (title: string, p: Predictions, classes: readonly string[]) => {
  const rows = p.items.map((f, i) => ({
    file: basename(f),
    label: classes[p.preds[i]!]!,
    probability: p.probs[i]![p.preds[i]!]!,
  }));
  const scored = rows.map((r) => ({ ...r, correct: r.file.startsWith(r.label) }));
  console.log(
    `\n${title}\n${scored.map((r) => `  ${r.file.padEnd(18)} ${r.label.padEnd(10)} ${r.probability.toFixed(4)}  ${r.correct ? 'right' : 'WRONG'}`).join('\n')}`,
  );
  console.log(`  ${scored.filter((r) => r.correct).length}/${rows.length} right (the file name says the truth)`);
  return scored;
};
const t0 = Date.now();

// ---- the tutorial
const path = a.data ?? (existsSync(sharedData) ? sharedData : await untarData(URLs.DORAEMON_WALLE));
const data = await ImageDataBunch.fromFolder(path, { test: 'test', dsTfms: getTransforms(), size, bs, seed });
await showBatch(data, { rows: 3, path: join(out, 'batch.png') });
console.log(`${data}\ndata.show_batch(rows=3): ${join(out, 'batch.png')}`);
// resnet34 as in the reference; offline without its weights, the best ImageNet model in the cache
const arch =
  a.arch ?? (await pickPretrained([models.resnet34, models.resnet50_keras, models.mobilenet_v1_0_75], { log: console.log }));
const learn = await ConvLearner(data, arch, { metrics: accuracy, path: out });
console.log(`\nlearn = ConvLearner(data, ${arch}, metrics=accuracy)\nlearn.fit_one_cycle(${frozenEpochs})`);
await learn.fitOneCycle(frozenEpochs);
await learn.save('stage-1');

const interp = await ClassificationInterpretation.fromLearner(learn);
console.log('\ninterp.most_confused(min_val=1):', interp.mostConfused(1));
console.log(`interp.confusion_matrix() (rows actual, columns predicted):\n${interp.confusionMatrixText()}`);
console.log(
  `interp.top_losses(9):\n${interp
    .topLossItems(9)
    .map((t) => `  ${basename(t.item!).padEnd(22)} ${interp.title(t)}`)
    .join('\n')}`,
);
await savePlot(interp.plotTopLosses(9), join(out, 'top_losses.png'));
await savePlot(interp.plotConfusionMatrix(), join(out, 'confusion_matrix.png'), { scale: 2 });
const testBefore = show(
  'learn.get_preds(is_test=True), after the frozen epoch:',
  await learn.getPreds({ isTest: true }),
  data.classes,
);
const frozenAccuracy = learn.recorder.lastRow?.metrics.accuracy;

learn.unfreeze();
console.log(`\nlearn.unfreeze()\nlearn.fit_one_cycle(${epochs}, slice(1e-5, 3e-4))`);
await learn.fitOneCycle(epochs, slice(1e-5, 3e-4));
const testAfter = show('learn.get_preds(is_test=True), after fine-tuning:', await learn.getPreds({ isTest: true }), data.classes);
console.log(`\nexported for inference: ${await learn.export()}\nwall time: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const finalAccuracy = learn.recorder.lastRow?.metrics.accuracy;
const summary = {
  arch,
  frozenAccuracy,
  finalAccuracy,
  testBefore,
  testAfter,
  mostConfused: interp.mostConfused(1),
  seconds: { total: (Date.now() - t0) / 1000 },
};
if (a.json) console.log(JSON.stringify(summary));

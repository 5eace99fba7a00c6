/**
 * `fastts train`: fast.ai's fine-tuning recipe from the command line, writing a run directory. All of the training
 * is `@fastts/node-gpu`'s (`fromFolder`, `cnnLearner`, `fitOneCycle`, `unfreeze`, `export`, `getPreds`,
 * `ClassificationInterpretation`); this module turns options into calls and results into files.
 */
import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { accuracy, configure, errorRate, cnnLearner, DataParallelError, FitInterruptedError, getArch, loadPretrained, ProgressCallback, type NodeDefaults, showBatch, slice, type LrSpec as LearnerLr, type VisionLearner } from '@fastts/node-gpu';
import { formatLr as formatLearnerLr } from '@fastts/core/platform';
import { formatLr, parseLr, type BackendChoice, type LrSpec } from '../args.js';
import { setupCliBackend } from '../backend.js';
import type { CommandContext } from '../context.js';
import { loadData, resolveDataSettings, type DataSettings } from '../data.js';
import { resolveDataArgument } from './datasets.js';
import { InterruptedError, UsageError, toCliError } from '../errors.js';
import { fitProgress, RunLogCallback } from '../fit-progress.js';
import { writeInterpretation } from '../interpretation.js';
import { writeThumbnails } from '../thumbs.js';
import type { TrainOptions } from '../options.js';
import { requireDir, displayPath } from '../paths.js';
import { cliVersion } from '../version.js';
import {
  defaultRunDir,
  predictionsCsv,
  prepareOutputDir,
  readJson,
  readMetrics,
  RUN_FILES,
  RunStatusFile,
  writeFileAtomic,
  writeJson,
  type EpochMetrics,
  type Phase,
  type Prediction,
  type ResumePoint,
  type StatusFile,
} from '../run-dir.js';

/** `--parallel`: data-parallel training on worker threads (`auto`: when the backend is wasm). */
export type ParallelChoice = NonNullable<NodeDefaults['parallel']>;

/** Folder (inside the run directory) of the training checkpoints; the Ctrl-C one is `interrupted.safetensors`. */
export const CHECKPOINT_DIR = 'checkpoints';
/** Name of the checkpoint written on Ctrl-C. */
export const INTERRUPTED_CHECKPOINT = 'interrupted';
/** The exported model's file inside `model/`. */
export const EXPORT_FILE = 'export.safetensors';

/** `config.json` of a training run. */
export interface TrainConfig extends DataSettings {
  command: 'train';
  fastts: string;
  createdAt: string;
  arch: string;
  pretrained: boolean;
  epochs: number;
  /** `--lr` as typed (`3e-3`, `1e-5:3e-4`, `:3e-3`), or null for fast.ai's default slice(3e-3). */
  lr: string | null;
  unfreezeEpochs: number;
  unfreezeLr: string;
  backend: BackendChoice;
  threads?: number;
  /** `--parallel`: data-parallel training on worker threads (auto: with wasm and 2+ threads). */
  parallel?: ParallelChoice;
  rows: number;
  topLosses: number;
  /** Filled in once the data is read. */
  classes: string[];
  nTrain: number;
  nValid: number;
  nTest: number;
  /** Training batches over both phases. */
  totalIters: number;
  /** The backend that actually ran. */
  backendUsed?: string;
}

/** The one JSON object `fastts train --json` prints. */
export interface TrainResult {
  runDir: string;
  arch: string;
  classes: string[];
  valid: { loss: number; accuracy: number };
  epochs: EpochMetrics[];
  test: Prediction[];
  backend: string;
  seconds: number;
}

/** Converts a command-line learning rate into the Learner's. */
export function toLearnerLr(lr: LrSpec): LearnerLr {
  if (typeof lr === 'number') return lr;
  return lr.lo === undefined ? slice(lr.hi) : slice(lr.lo, lr.hi);
}

/** Runs `fastts train`. */
export async function runTrain(dataDirArg: string | undefined, options: TrainOptions, ctx: CommandContext): Promise<void> {
  const { io, reporter, interrupts } = ctx;
  const started = Date.now();

  // ---- settings: a new run, or the config of the run to resume
  let config: TrainConfig;
  let runDir: string;
  let newRun = false;
  let resume: ResumePoint | undefined;
  if (options.resume !== undefined) {
    runDir = requireDir(options.resume, io.cwd, 'run folder', 'give a run folder written by fastts train (runs/<timestamp>-<arch>)');
    config = readJson<TrainConfig>(join(runDir, RUN_FILES.config), 'run config');
    const status = existsSync(join(runDir, RUN_FILES.status))
      ? readJson<StatusFile>(join(runDir, RUN_FILES.status), 'run status')
      : undefined;
    if (!status?.resume || !existsSync(resolve(runDir, status.resume.checkpoint))) {
      throw new UsageError(`run '${options.resume}' has no checkpoint to resume from`, {
        hint:
          status?.status === 'finished'
            ? 'it finished; start a new run (fastts train <dataDir>) to train more'
            : 'only runs stopped with Ctrl-C can be resumed',
      });
    }
    resume = status.resume;
    if (dataDirArg !== undefined) {
      const dir = await resolveDataArgument(dataDirArg, io.cwd, reporter);
      config.dataDir = resolveDataSettings(dir, { ...config, test: config.test ?? 'test' }, io.cwd).dataDir;
    }
    // Where tensors run may change on resume; the recipe may not.
    config.backend = options.backend;
    if (options.threads !== undefined) config.threads = options.threads;
    config.parallel = options.parallel;
    requireDir(config.dataDir, io.cwd, 'data folder of the run', 'it moved: give its new location, fastts train <dataDir> --resume <runDir>');
  } else {
    if (dataDirArg === undefined) {
      throw new UsageError('missing the data folder', { hint: "give it (fastts train <dataDir>), or continue a stopped run with --resume <runDir>" });
    }
    if (options.epochs === 0 && options.unfreezeEpochs === 0) {
      throw new UsageError('--epochs and --unfreeze-epochs are both 0: there is nothing to train', { hint: 'give --epochs 1 or more' });
    }
    const spec = getArch(options.arch);
    // A folder that exists, else a registered data set name (downloaded on first use).
    const data = resolveDataSettings(await resolveDataArgument(dataDirArg, io.cwd, reporter), options, io.cwd);
    runDir = resolve(io.cwd, options.out ?? defaultRunDir(spec.name, io.cwd));
    newRun = true;
    config = {
      command: 'train',
      fastts: cliVersion(),
      createdAt: new Date().toISOString(),
      ...data,
      arch: spec.name,
      pretrained: options.pretrained,
      epochs: options.epochs,
      lr: options.lr === undefined ? null : formatLr(options.lr),
      unfreezeEpochs: options.unfreezeEpochs,
      unfreezeLr: formatLr(options.unfreezeLr),
      backend: options.backend,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      parallel: options.parallel,
      rows: options.rows,
      topLosses: options.topLosses,
      classes: [],
      nTrain: 0,
      nValid: 0,
      nTest: 0,
      totalIters: 0,
    };
  }
  // The backend before the run folder: a backend that cannot run here leaves no empty run behind.
  const backend = await setupCliBackend(config, reporter);
  config.backendUsed = backend.name;
  if (newRun) prepareOutputDir(runDir);
  const status = new RunStatusFile(runDir);
  const rel = displayPath(io.cwd, runDir);
  reporter.log(`${resume ? 'resuming' : 'run'}: ${rel}`);
  reporter.log(`backend: ${backend.description}`);

  let learn: VisionLearner | undefined;
  let phase: Phase = resume?.phase ?? 'frozen';
  let itersDone = resume?.iters ?? 0;
  let trainingDone = false;
  try {
    status.write('running');
    if (!resume) writeJson(join(runDir, RUN_FILES.config), config);
    // The pretrained weights before the data: a missing weight file fails in a second, not after a long scan.
    // A resumed run takes every weight from its checkpoint.
    const weights = config.pretrained && !resume ? await loadPretrained(config.arch) : undefined;
    let data: Awaited<ReturnType<typeof loadData>>;
    try {
      // A resumed run keeps its class list (and order), whatever the folder holds now.
      data = await loadData(config, reporter, resume ? { classes: config.classes } : {});
      config.classes = [...data.classes];
      config.nTrain = data.trainDl.n;
      config.nValid = data.validDl.n;
      config.nTest = data.testDl?.n ?? 0;
      config.totalIters = data.trainDl.length * (config.epochs + config.unfreezeEpochs);
      writeJson(join(runDir, RUN_FILES.config), config);
      status.write('running', { totalIters: config.totalIters });
      reporter.log(
        `data: ${config.nTrain} train, ${config.nValid} valid${config.nTest ? `, ${config.nTest} test` : ''} images; ` +
          `classes: ${config.classes.join(', ')}`,
      );
      checkAbort(interrupts.signal);
      // The platform's training step: data-parallel on worker threads with the wasm backend (--parallel).
      configure({ parallel: config.parallel ?? 'auto', ...(config.threads !== undefined ? { threads: config.threads } : {}) });
      try {
        learn = await cnnLearner(data, config.arch, {
          ...(weights ? { weights } : {}),
          pretrained: config.pretrained && !resume,
          metrics: [accuracy, errorRate],
          path: runDir,
          modelDir: CHECKPOINT_DIR,
        });
      } catch (e) {
        if (e instanceof DataParallelError && config.parallel === 'on') {
          throw new UsageError(`--parallel on: ${e.message}`, { hint: 'use --backend wasm, or leave --parallel at auto' });
        }
        throw e;
      }
      // cnnLearner freezes only what it loads pretrained weights into; a resumed pretrained run is frozen here.
      if (resume && config.pretrained) learn.freeze();
    } finally {
      weights?.dispose();
    }
    if (!resume) {
      await showBatch(data, { rows: config.rows, path: join(runDir, RUN_FILES.batch) });
      reporter.debug(`wrote ${RUN_FILES.batch}`);
    }

    // ---- phase 1: body frozen; phase 2: unfrozen, discriminative learning rates
    const phases: Array<{ phase: Phase; epochs: number; lr: LearnerLr | undefined }> = [
      { phase: 'frozen', epochs: config.epochs, lr: config.lr === null ? undefined : toLearnerLr(parseLr(config.lr)) },
      { phase: 'unfrozen', epochs: config.unfreezeEpochs, lr: toLearnerLr(parseLr(config.unfreezeLr)) },
    ];
    let loaded = false;
    for (const p of phases) {
      if (resume && p.phase === 'frozen' && resume.phase === 'unfrozen') continue;
      phase = p.phase;
      if (p.phase === 'unfrozen' && p.epochs > 0) learn.unfreeze();
      if (resume && !loaded) {
        await learn.load(INTERRUPTED_CHECKPOINT);
        loaded = true;
      }
      const start = resume && p.phase === resume.phase ? resume.epoch : 0;
      if (start >= p.epochs) continue;
      reporter.log(
        `${p.phase === 'frozen' ? 'body frozen, training the head' : 'unfrozen, training every layer'}: ` +
          `fitOneCycle(${p.epochs}${p.lr === undefined ? '' : `, ${formatLearnerLr(p.lr)}`})${start > 0 ? `, resuming at epoch ${start}` : ''}`,
      );
      const log = new RunLogCallback({ runDir, phase: p.phase, iterOffset: itersDone });

      try {
        await learn.fitOneCycle(p.epochs, {
          ...(start > 0 ? { startEpoch: start } : {}),
          ...(p.lr !== undefined ? { maxLr: p.lr } : {}),
          signal: interrupts.signal,
          checkpointName: INTERRUPTED_CHECKPOINT,
          callbacks: [log, new ProgressCallback(fitProgress(reporter, p.phase))],
        });
      } finally {
        itersDone += log.iters;
      }
    }
    trainingDone = true;
    checkAbort(interrupts.signal);

    // ---- results: export, interpretation plots, test predictions
    await learn.export(join(RUN_FILES.model, EXPORT_FILE));
    reporter.debug(`wrote ${RUN_FILES.model}/${EXPORT_FILE}`);
    checkAbort(interrupts.signal);
    const interp = await writeInterpretation(learn, runDir, { topLosses: config.topLosses, dataDir: config.dataDir });
    checkAbort(interrupts.signal);
    let test: Prediction[] = [];
    if (data.testDl) {
      const preds = await learn.getPreds({ ds: 'test' });
      test = preds.items.map((item, i) => ({
        file: relative(config.dataDir, item),
        label: config.classes[preds.preds[i]!]!,
        probability: preds.probs[i]![preds.preds[i]!]!,
      }));
      writeFileAtomic(join(runDir, RUN_FILES.testPredictions), predictionsCsv(test));
      await writeThumbnails(preds.items, join(runDir, 'thumbs', 'test'));
    }

    const epochs = readMetrics(runDir);
    const last = epochs[epochs.length - 1];
    const valid = last ? { loss: last.valid_loss, accuracy: last.accuracy } : { loss: interp.validLoss, accuracy: interp.accuracy };
    status.write('finished', { totalIters: config.totalIters });
    // A finished run needs no resume point: drop the Ctrl-C checkpoint (weights + optimizer state) if there was one.
    rmSync(join(runDir, CHECKPOINT_DIR, `${INTERRUPTED_CHECKPOINT}.safetensors`), { force: true });
    rmEmptyDir(join(runDir, CHECKPOINT_DIR));
    const seconds = (Date.now() - started) / 1000;
    const result: TrainResult = {
      runDir,
      arch: config.arch,
      classes: config.classes,
      valid,
      epochs,
      test,
      backend: backend.description,
      seconds: Math.round(seconds * 10) / 10,
    };
    reporter.result(result);
    const s = reporter.style;
    reporter.out();
    reporter.out(`valid: accuracy ${valid.accuracy.toFixed(4)}, loss ${valid.loss.toFixed(4)}`);
    if (interp.mostConfused.length) {
      reporter.out(`most confused: ${interp.mostConfused.map(([a, p, n]) => `${a} -> ${p} (${n})`).join(', ')}`);
    }
    if (test.length) {
      reporter.out(`test predictions (${RUN_FILES.testPredictions}):`);
      for (const t of test) reporter.out(`  ${t.file}  ${t.label}  ${t.probability.toFixed(4)}`);
    }
    reporter.out(`${s.green('done')} in ${seconds.toFixed(0)} s: ${rel} (predict with: fastts predict ${rel} <image>)`);
  } catch (err) {
    let checkpoint: string | undefined;
    let point: ResumePoint | undefined;
    if (err instanceof FitInterruptedError && err.checkpoint) {
      // Restart the interrupted epoch (with the weights of the last finished batch), or the next one when the
      // interruption came right after an epoch ended.
      const nIter = learn?.data.trainDl.length ?? 0;
      checkpoint = err.checkpoint;
      point = { phase, epoch: err.epoch + (err.batch >= nIter ? 1 : 0), checkpoint: relative(runDir, checkpoint), iters: itersDone };
    } else if (err instanceof InterruptedError && trainingDone && learn) {
      // Ctrl-C while writing the results: keep the trained weights, --resume only writes the results.
      checkpoint = await learn.save(INTERRUPTED_CHECKPOINT);
      point = { phase, epoch: phase === 'frozen' ? config.epochs : config.unfreezeEpochs, checkpoint: relative(runDir, checkpoint), iters: itersDone };
    }
    if (point && checkpoint) {
      const line = `stopped by ${interrupts.by} during ${phase} epoch ${point.epoch}; the checkpoint is ${displayPath(io.cwd, checkpoint)}`;
      status.write('interrupted', { error: line, checkpoint: point.checkpoint, totalIters: config.totalIters, resume: point });
      throw new InterruptedError(line, { hint: `resume with: fastts train --resume ${rel}`, cause: err });
    }
    if (err instanceof InterruptedError || err instanceof FitInterruptedError) {
      status.write('interrupted', { error: `stopped by ${interrupts.by} before training started: nothing to resume` });
      throw new InterruptedError(`stopped by ${interrupts.by} before training started`, { hint: 'nothing to resume; run the command again', cause: err });
    }
    status.write('failed', { error: toCliError(err).line });
    throw err;
  } finally {
    await learn?.dispose();
  }
}

function checkAbort(signal: AbortSignal): void {
  if (signal.aborted) throw new InterruptedError('stopped by a signal', { hint: 'run the command again' });
}

function rmEmptyDir(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
}

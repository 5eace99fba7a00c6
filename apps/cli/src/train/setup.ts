/**
 * `fastts train`'s data and learner: the pretrained weights, the data bunch (its counts recorded in config.json),
 * and `cnnLearner` with the platform's training step (data-parallel on worker threads with wasm).
 */
import {
  accuracy,
  cnnLearner,
  configure,
  DataParallelError,
  errorRate,
  loadPretrained,
  type DataBunch,
  type VisionLearner,
} from '@fastts/node-gpu';
import { loadData } from '../data.js';
import { InterruptedError, UsageError } from '../errors.js';
import type { Reporter } from '../output.js';
import { writeRunConfig, type RunStatusFile } from '../run-dir.js';
import { CHECKPOINT_DIR, type TrainConfig } from './config.js';

/** Throws an {@link InterruptedError} when `signal` has been aborted (Ctrl-C between long steps). */
export function checkAbort(signal: AbortSignal): void {
  if (signal.aborted) throw new InterruptedError('stopped by a signal', { hint: 'run the command again' });
}

/** What {@link prepareLearner} needs to know about the run. */
export interface LearnerSetup {
  config: TrainConfig;
  runDir: string;
  /** Whether the run resumes (its weights then all come from the checkpoint, and its class list is kept). */
  resuming: boolean;
  reporter: Reporter;
  signal: AbortSignal;
  /** Gets the total batch count once the data is read. */
  status: RunStatusFile;
}

/** Reads the data, records its counts in config.json, and builds the run's learner (frozen when pretrained). */
export async function prepareLearner(s: LearnerSetup): Promise<{ data: DataBunch; learn: VisionLearner }> {
  const { config, reporter } = s;
  // The pretrained weights before the data: a missing weight file fails in a second, not after a long scan.
  // A resumed run takes every weight from its checkpoint.
  const weights = config.pretrained && !s.resuming ? await loadPretrained(config.arch) : undefined;
  try {
    // A resumed run keeps its class list (and order), whatever the folder holds now.
    const data = await loadData(config, reporter, s.resuming ? { classes: config.classes } : {});
    config.classes = [...data.classes];
    config.nTrain = data.trainDl.n;
    config.nValid = data.validDl.n;
    config.nTest = data.testDl?.n ?? 0;
    config.totalIters = data.trainDl.length * (config.epochs + config.unfreezeEpochs);
    writeRunConfig(s.runDir, config);
    s.status.update({ totalIters: config.totalIters });
    reporter.log(
      `data: ${config.nTrain} train, ${config.nValid} valid${config.nTest ? `, ${config.nTest} test` : ''} images; ` +
        `classes: ${config.classes.join(', ')}`,
    );
    checkAbort(s.signal);
    // The platform's training step: data-parallel on worker threads with the wasm backend (--parallel).
    configure({ parallel: config.parallel ?? 'auto', ...(config.threads !== undefined ? { threads: config.threads } : {}) });
    let learn: VisionLearner;
    try {
      learn = await cnnLearner(data, config.arch, {
        ...(weights ? { weights } : {}),
        pretrained: config.pretrained && !s.resuming,
        metrics: [accuracy, errorRate],
        path: s.runDir,
        modelDir: CHECKPOINT_DIR,
      });
    } catch (e) {
      if (e instanceof DataParallelError && config.parallel === 'on') {
        throw new UsageError(`--parallel on: ${e.message}`, { hint: 'use --backend wasm, or leave --parallel at auto' });
      }
      throw e;
    }
    // cnnLearner freezes only what it loads pretrained weights into; a resumed pretrained run is frozen here.
    if (s.resuming && config.pretrained) learn.freeze();
    return { data, learn };
  } finally {
    weights?.dispose();
  }
}

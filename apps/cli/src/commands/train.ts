/**
 * `fastts train`: fast.ai's fine-tuning recipe from the command line, writing a run directory. All of the training
 * is `@fastts/node-gpu`'s (`fromFolder`, `cnnLearner`, `fitOneCycle`, `unfreeze`, `export`, `getPreds`,
 * `ClassificationInterpretation`); the modules under `../train/` turn options into calls and results into files:
 * `config` (settings, resume), `setup` (data + learner), `phases` (the fits, per-epoch checkpoints), `results`,
 * `failure` (how a run that does not finish is recorded).
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { showBatch, type VisionLearner } from '@fastts/node-gpu';
import { setupCliBackend } from '../backend.js';
import type { CommandContext } from '../context.js';
import { resolveDataArgument } from './datasets.js';
import type { TrainOptions } from '../options.js';
import { displayPath } from '../paths.js';
import { prepareOutputDir, RUN_FILES, RunStatusFile, truncateLines, writeRunConfig } from '../run-dir.js';
import { CHECKPOINT_DIR, newRunSettings, resumeSettings, type TrainSettings } from '../train/config.js';
import { trainFailed } from '../train/failure.js';
import { epochsBefore, trainPhases, type TrainProgress } from '../train/phases.js';
import { finishRun, reportResult, writeResults } from '../train/results.js';
import { checkAbort, prepareLearner } from '../train/setup.js';

export {
  CHECKPOINT_DIR,
  EXPORT_FILE,
  INTERRUPTED_CHECKPOINT,
  toLearnerLr,
  type ParallelChoice,
  type TrainConfig,
  type TrainResult,
} from '../train/config.js';

/**
 * A resumed run's folder as its checkpoint left it: metrics.jsonl and batches.jsonl cut back to the checkpoint's
 * point (what the dead process logged after it goes, so that no epoch appears twice), no half-written temporary
 * checkpoint files.
 */
function rewindRun(s: TrainSettings): void {
  const point = s.resume!;
  truncateLines(join(s.runDir, RUN_FILES.metrics), epochsBefore(point, s.config));
  truncateLines(join(s.runDir, RUN_FILES.batches), point.iters);
  const dir = join(s.runDir, CHECKPOINT_DIR);
  if (existsSync(dir)) for (const f of readdirSync(dir)) if (f.includes('.tmp-')) rmSync(join(dir, f), { force: true });
}

/** Runs `fastts train`. */
export async function runTrain(dataDirArg: string | undefined, options: TrainOptions, ctx: CommandContext): Promise<void> {
  const { io, reporter, interrupts } = ctx;
  const started = Date.now();
  // A folder that exists, else a registered data set name (downloaded on first use).
  const dataDir = dataDirArg === undefined ? undefined : await resolveDataArgument(dataDirArg, io.cwd, reporter);
  const settings =
    options.resume !== undefined
      ? resumeSettings(options.resume, dataDir, options, io.cwd)
      : newRunSettings(dataDir, options, io.cwd);
  const { config, runDir, resume } = settings;
  // The backend before the run folder: a backend that cannot run here leaves no empty run behind.
  const backend = await setupCliBackend(config, reporter);
  config.backendUsed = backend.name;
  if (resume) rewindRun(settings);
  else prepareOutputDir(runDir);
  const status = new RunStatusFile(runDir);
  const rel = displayPath(io.cwd, runDir);
  reporter.log(resume ? `resuming: ${rel} (${settings.stopped})` : `run: ${rel}`);
  reporter.log(`backend: ${backend.description}`);

  const progress: TrainProgress = {
    phase: resume?.phase ?? 'frozen',
    iters: resume?.iters ?? 0,
    point: resume,
    trainingDone: false,
  };
  let learn: VisionLearner | undefined;
  try {
    // The resume point stays in status.json until this process records a newer one: killed again, it resumes again.
    status.write('running', resume ? { resume } : {});
    if (!resume) writeRunConfig(runDir, config);
    const built = await prepareLearner({
      config,
      runDir,
      resuming: resume !== undefined,
      reporter,
      signal: interrupts.signal,
      status,
    });
    learn = built.learn;
    if (!resume) {
      await showBatch(built.data, { rows: config.rows, path: join(runDir, RUN_FILES.batch) });
      reporter.debug(`wrote ${RUN_FILES.batch}`);
    }
    await trainPhases({ learn, config, runDir, reporter, signal: interrupts.signal, status, progress, resume });
    checkAbort(interrupts.signal);
    const { interp, test } = await writeResults(learn, built.data, config, runDir, reporter, interrupts.signal);
    finishRun(runDir, status, config);
    reportResult(reporter, {
      runDir,
      rel,
      config,
      interp,
      test,
      backend: backend.description,
      seconds: (Date.now() - started) / 1000,
    });
  } catch (err) {
    trainFailed(err, {
      config,
      runDir,
      rel,
      cwd: io.cwd,
      status,
      progress,
      batchesPerEpoch: learn?.data.trainDl.length ?? 0,
      stoppedBy: interrupts.by,
    });
  } finally {
    await learn?.dispose();
  }
}

/**
 * Rebuilding a finished or interrupted run's Learner from its run directory (config.json + the export or the
 * checkpoint), for `fastts interpret` and `fastts export`.
 */
import { join } from 'node:path';
import { accuracy, cnnLearner, errorRate, loadLearner, type VisionLearner } from '@fastts/node-gpu';
import type { TrainConfig } from './commands/train.js';
import { loadData, resolveDataSettings } from './data.js';
import { UsageError } from './errors.js';
import type { Reporter } from './output.js';
import { requireDir } from './paths.js';
import { readJson, RUN_FILES } from './run-dir.js';

/** Reads a run folder's config.json. */
export function readRunConfig(runDir: string, cwd: string): { dir: string; config: TrainConfig } {
  const dir = requireDir(runDir, cwd, 'run folder', 'give a run folder written by fastts train (runs/<timestamp>-<arch>)');
  const config = readJson<TrainConfig>(join(dir, RUN_FILES.config), 'run config');
  if (config.command !== 'train' || !config.arch || !Array.isArray(config.classes)) {
    throw new UsageError(`'${runDir}' is not a fastts train run (its config.json has no arch/classes)`, {
      hint: 'give a run folder written by fastts train',
    });
  }
  return { dir, config };
}

/**
 * The run's Learner on its data (validation set rebuilt as in training, no augmentation needed), with the weights
 * of `weightsFile` (an export written by `learn.export()`).
 */
export async function learnerFromExport(
  config: TrainConfig,
  weightsFile: string,
  reporter: Reporter,
  options: { dataDir?: string; cwd: string },
): Promise<VisionLearner> {
  const settings = resolveDataSettings(
    options.dataDir ?? config.dataDir,
    { ...config, test: config.test ?? 'test', augment: false },
    options.cwd,
  );
  delete settings.test;
  const data = await loadData(settings, reporter, { classes: config.classes });
  const learn = await cnnLearner(data, config.arch, { pretrained: false, metrics: [accuracy, errorRate] });
  const exported = await loadLearner(weightsFile);
  const sd = exported.model.stateDict({ layout: 'native' });
  try {
    learn.model.loadStateDict(sd, { layout: 'native' });
  } finally {
    for (const t of sd.values()) t.dispose();
    exported.dispose();
  }
  return learn;
}

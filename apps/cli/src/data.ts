/** Building the DataBunch the commands train on, from the data options (the pipeline itself is `@fastts/node-gpu`'s). */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fromFolder, getTransforms, type DataBunch, type FromFolderOptions } from '@fastts/node-gpu';
import { randomSeed } from '@fastts/core/platform';
import { UsageError } from './errors.js';
import type { DataOptions } from './options.js';
import type { Reporter } from './output.js';
import { requireDir } from './paths.js';

/** The resolved data settings of a run (what config.json records). */
export interface DataSettings {
  /** Absolute path of the data folder. */
  dataDir: string;
  train: string;
  valid: string;
  validPct?: number;
  /** The test folder name, when it exists. */
  test?: string;
  size: number;
  bs: number;
  seed: number;
  augment: boolean;
}

/** What to say when the data folder is wrong. */
export const DATA_DIR_HINT =
  "give the folder that holds train/<class>/*.jpg and valid/<class>/*.jpg (or use --valid-pct), fast.ai's ImageNet layout";

/** Checks the data folder and resolves the options into {@link DataSettings} (a random seed when none was given). */
export function resolveDataSettings(dataDir: string, options: DataOptions & { augment?: boolean }, cwd: string): DataSettings {
  const abs = requireDir(dataDir, cwd, 'data folder', DATA_DIR_HINT);
  if (options.validPct === undefined) {
    const train = join(abs, options.train);
    if (!existsSync(train) || !statSync(train).isDirectory()) {
      const subs = subfolders(abs);
      throw new UsageError(
        `data folder '${dataDir}' has no '${options.train}' folder (${subs.length ? `its subfolders are: ${subs.join(', ')}` : 'it has no subfolders'})`,
        { hint: `${DATA_DIR_HINT}; or name the training folder with --train` },
      );
    }
  }
  if (options.validPct === undefined) {
    const valid = join(abs, options.valid);
    if (!existsSync(valid) || !statSync(valid).isDirectory()) {
      throw new UsageError(
        `data folder '${dataDir}' has no '${options.valid}' folder (its subfolders are: ${subfolders(abs).join(', ')})`,
        {
          hint: 'name the validation folder with --valid, or hold out a random part of the training images with --valid-pct 0.2',
        },
      );
    }
  }
  // A folder of loose images (no class subfolders) is the most common layout mistake: say so before scanning.
  const labelledRoot = options.validPct === undefined ? join(abs, options.train) : abs;
  const classFolders = subfolders(labelledRoot).filter((n) => options.validPct === undefined || n !== options.test);
  if (classFolders.length === 0) {
    const where = options.validPct === undefined ? `'${join(dataDir, options.train)}'` : `data folder '${dataDir}'`;
    throw new UsageError(`${where} has no class subfolders`, {
      hint: `put each class's images in its own folder, e.g. ${join(dataDir, options.validPct === undefined ? options.train : '', '<class>', 'image.jpg')}`,
    });
  }
  const testDir = join(abs, options.test);
  const hasTest = existsSync(testDir) && statSync(testDir).isDirectory();
  if (!hasTest && options.testRequired) {
    throw new UsageError(`test folder '${join(dataDir, options.test)}' does not exist`, {
      hint: `give the name of the unlabelled images' folder under the data folder, or leave --test out`,
    });
  }
  return {
    dataDir: abs,
    train: options.train,
    valid: options.valid,
    ...(options.validPct !== undefined ? { validPct: options.validPct } : {}),
    ...(hasTest ? { test: options.test } : {}),
    size: options.size,
    bs: options.bs,
    seed: options.seed ?? randomSeed(),
    augment: options.augment ?? true,
  };
}

/** Names of the visible subfolders of `dir`. */
function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter(
      (e) => (e.isDirectory() || (e.isSymbolicLink() && statSync(join(dir, e.name)).isDirectory())) && !e.name.startsWith('.'),
    )
    .map((e) => e.name)
    .sort();
}

/** Builds the DataBunch; data warnings (skipped files, empty class folders) go to stderr as `warning:` lines. */
export async function loadData(
  settings: DataSettings,
  reporter: Reporter,
  extra: Partial<FromFolderOptions> = {},
): Promise<DataBunch> {
  const opts: FromFolderOptions = {
    train: settings.train,
    valid: settings.valid,
    ...(settings.validPct !== undefined ? { validPct: settings.validPct } : {}),
    ...(settings.test !== undefined ? { test: settings.test } : {}),
    size: settings.size,
    bs: settings.bs,
    seed: settings.seed,
    tfms: settings.augment ? getTransforms() : null,
    onWarning: (w) => reporter.warn(w.message),
    ...extra,
  };
  const data = await fromFolder(settings.dataDir, opts);
  reporter.debug(
    `data: ${data.trainDl.n} training, ${data.validDl.n} validation${data.testDl ? `, ${data.testDl.n} test` : ''} images; classes ${data.classes.join(', ')}`,
  );
  return data;
}

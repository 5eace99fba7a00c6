/**
 * `fastts export <runDir> [--out file]`: the run's model as one self-contained file (weights + classes +
 * preprocessing, safetensors), for serving or copying. A finished run's `model/export.safetensors` is copied; an
 * interrupted run is exported from its checkpoint.
 */
import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { setupCliBackend } from '../backend.js';
import { CHECKPOINT_DIR, INTERRUPTED_CHECKPOINT } from './train.js';
import type { CommandContext } from '../context.js';
import { displayPath } from '../paths.js';
import { loadData, resolveDataSettings } from '../data.js';
import { UsageError } from '../errors.js';
import { EXPORT_FILE, loadExport } from '../model-file.js';
import type { ExportOptions } from '../options.js';
import { prepareOutputFile, RUN_FILES } from '../run-dir.js';
import { readRunConfig } from '../run-learner.js';
import { cnnLearner } from '@fastts/node-gpu';

/** Runs `fastts export`. */
export async function runExport(runDir: string, options: ExportOptions, ctx: CommandContext): Promise<void> {
  const { io, reporter } = ctx;
  const { dir, config } = readRunConfig(runDir, io.cwd);
  const out = prepareOutputFile(resolve(io.cwd, options.out ?? `${basename(dir)}.safetensors`));
  const exported = join(dir, RUN_FILES.model, EXPORT_FILE);
  const checkpoint = join(dir, CHECKPOINT_DIR, `${INTERRUPTED_CHECKPOINT}.safetensors`);
  let source: 'export' | 'checkpoint';
  // Light tensor work (decoding, rendering, copying weights): the CPU path, no GPU probing.
  await setupCliBackend({ backend: 'wasm' }, reporter);
  if (existsSync(exported)) {
    if (resolve(exported) !== out) await copyFile(exported, out);
    source = 'export';
  } else if (existsSync(checkpoint)) {
    // An interrupted run: rebuild its Learner (no pretrained weights needed) and export the checkpoint's weights.
    const settings = resolveDataSettings(config.dataDir, { ...config, test: config.test ?? 'test', augment: false }, io.cwd);
    delete settings.test;
    const data = await loadData(settings, reporter, { classes: config.classes });
    const learn = await cnnLearner(data, config.arch, { pretrained: false, path: dir, modelDir: CHECKPOINT_DIR });
    try {
      await learn.load(INTERRUPTED_CHECKPOINT, { withOpt: false });
      learn.path = dirname(out);
      await learn.export(basename(out));
    } finally {
      await learn.dispose();
    }
    source = 'checkpoint';
  } else {
    throw new UsageError(`run '${runDir}' has neither ${RUN_FILES.model}/${EXPORT_FILE} nor a checkpoint`, {
      hint: 'it did not get far enough to save a model; train again',
    });
  }
  // Check that the file loads for inference, as `fastts predict` will load it.
  const check = await loadExport(out);
  const info = { file: out, source, arch: check.arch, size: check.info.size, classes: [...check.classes] };
  check.dispose();
  reporter.result(info);
  reporter.out(
    `wrote ${displayPath(io.cwd, out)} (${info.arch}, ${info.size} px, classes ${info.classes.join(', ')}` +
      `${source === 'checkpoint' ? ', from the interrupted run\'s checkpoint' : ''}); use it with: fastts predict ${displayPath(io.cwd, out)} <image>`,
  );
}

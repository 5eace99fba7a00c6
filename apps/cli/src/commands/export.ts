/**
 * `fastts export <runDir> [--out file] [--format safetensors|onnx]`: the run's model as one self-contained file
 * (weights + classes + preprocessing, safetensors), for serving or copying. A finished run's
 * `model/export.safetensors` is copied; an interrupted run is exported from its checkpoint. `--format onnx` writes
 * the network as an ONNX model (default `<runDir>/model/export.onnx`, or `<runDir>/export.onnx` for an interrupted
 * run), which `fastts predict` then runs through ONNX Runtime.
 */
import { existsSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { setupCliBackend } from '../backend.js';
import { CHECKPOINT_DIR, INTERRUPTED_CHECKPOINT } from './train.js';
import type { CommandContext } from '../context.js';
import { displayPath } from '../paths.js';
import { loadData, resolveDataSettings } from '../data.js';
import { UsageError } from '../errors.js';
import { EXPORT_FILE, loadExport } from '../model-file.js';
import type { ExportOptions } from '../options.js';
import { prepareOutputFile, RUN_FILES, runState } from '../run-dir.js';
import { readRunConfig } from '../run-learner.js';
import { cnnLearner } from '@fastts/node-gpu';
import { writeFileAtomic } from '@fastts/node-gpu/platform';
import { readOnnxInfo, toOnnx } from '@fastts/core/onnx';

/** The file `fastts export --format onnx` writes inside the run's `model/` folder by default. */
export const ONNX_EXPORT_FILE = 'export.onnx';

/** Runs `fastts export`. */
export async function runExport(runDir: string, options: ExportOptions, ctx: CommandContext): Promise<void> {
  const { io, reporter } = ctx;
  const { dir, config } = readRunConfig(runDir, io.cwd);
  const format = options.format ?? 'safetensors';
  const exported = join(dir, RUN_FILES.model, EXPORT_FILE);
  // ONNX goes into the run: next to the finished run's export, or (an interrupted run has no model/) its top folder.
  const onnxOut = existsSync(exported) ? join(dir, RUN_FILES.model, ONNX_EXPORT_FILE) : join(dir, ONNX_EXPORT_FILE);
  const out = prepareOutputFile(resolve(io.cwd, options.out ?? (format === 'onnx' ? onnxOut : `${basename(dir)}.safetensors`)));
  // A stopped run's checkpoint: the one status.json names (the last epoch's, or Ctrl-C's), else Ctrl-C's.
  const checkpoint = resolve(
    dir,
    runState(dir).resume?.checkpoint ?? join(CHECKPOINT_DIR, `${INTERRUPTED_CHECKPOINT}.safetensors`),
  );
  let source: 'export' | 'checkpoint';
  // Light tensor work (decoding, rendering, copying weights): the CPU path, no GPU probing.
  await setupCliBackend({ backend: 'wasm' }, reporter);
  if (existsSync(exported)) {
    if (format === 'onnx') {
      const inf = await loadExport(exported);
      try {
        await writeFileAtomic(out, await toOnnx(inf.model, { ...inf.info, classes: inf.classes }));
      } finally {
        inf.dispose();
      }
    } else if (resolve(exported) !== out) {
      await copyFile(exported, out);
    }
    source = 'export';
  } else if (existsSync(checkpoint)) {
    // A stopped run: rebuild its Learner (no pretrained weights needed) and export the checkpoint's weights.
    const settings = resolveDataSettings(config.dataDir, { ...config, test: config.test ?? 'test', augment: false }, io.cwd);
    delete settings.test;
    const data = await loadData(settings, reporter, { classes: config.classes });
    const learn = await cnnLearner(data, config.arch, {
      pretrained: false,
      path: dirname(checkpoint),
      modelDir: '.',
      quiet: true,
    });
    try {
      await learn.load(basename(checkpoint, '.safetensors'), { withOpt: false });
      learn.path = dirname(out);
      await learn.export({ format, fname: basename(out) });
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
  let info: { file: string; source: typeof source; format: typeof format; arch: string; size: number; classes: string[] };
  if (format === 'onnx') {
    const check = readOnnxInfo(new Uint8Array(await readFile(out)), out);
    info = { file: out, source, format, arch: check.arch, size: check.size, classes: [...check.classes] };
  } else {
    const check = await loadExport(out);
    info = { file: out, source, format, arch: check.arch, size: check.info.size, classes: [...check.classes] };
    check.dispose();
  }
  reporter.result(info);
  const usage =
    format === 'onnx' && options.out === undefined
      ? `${displayPath(io.cwd, dir)} <image> --engine onnx`
      : `${displayPath(io.cwd, out)} <image>`;
  reporter.out(
    `wrote ${displayPath(io.cwd, out)} (${info.arch}, ${info.size} px, classes ${info.classes.join(', ')}` +
      `${source === 'checkpoint' ? ", from the interrupted run's checkpoint" : ''}); use it with: fastts predict ${usage}`,
  );
}

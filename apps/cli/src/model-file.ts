/** Finding and loading an exported model from what the user names: a run folder, its model/ folder, or the file. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadLearner, type InferenceLearner } from '@fastts/node-gpu';
import { UsageError } from './errors.js';
import { RUN_FILES } from './run-dir.js';

/** The file name `fastts train` exports to inside `model/`. */
export const EXPORT_FILE = 'export.safetensors';

/**
 * Resolves `model` to an export file: `<runDir>/model/export.safetensors`, `<modelDir>/export.safetensors` (or
 * the one `.safetensors` file there), or the file itself.
 */
export function findExport(model: string, cwd: string): string {
  const abs = resolve(cwd, model);
  const hint = 'give a run folder (runs/<timestamp>-<arch>), its model/ folder, or an exported .safetensors file';
  if (!existsSync(abs)) throw new UsageError(`model '${model}' does not exist`, { hint });
  if (statSync(abs).isFile()) return abs;
  for (const dir of [join(abs, RUN_FILES.model), abs]) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
    if (existsSync(join(dir, EXPORT_FILE))) return join(dir, EXPORT_FILE);
    const candidates = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
    if (candidates.length === 1) return join(dir, candidates[0]!);
  }
  const interrupted = existsSync(join(abs, RUN_FILES.status)) && !existsSync(join(abs, RUN_FILES.model));
  throw new UsageError(`'${model}' holds no exported model (no ${RUN_FILES.model}/${EXPORT_FILE})`, {
    hint: interrupted
      ? `the run did not finish: continue it with fastts train --resume ${model}, or fastts export ${model}`
      : hint,
  });
}

/** Loads the export `file` for inference. */
export async function loadExport(file: string): Promise<InferenceLearner> {
  return loadLearner(file);
}

/** `fastts models`: the known architectures and which pretrained weights are in the cache. */
import { fasttsHome, getArch, isOffline, listArchs, pretrainedDir } from '@fastts/node-gpu';
import type { CommandContext } from '../context.js';
import type { ModelsOptions } from '../options.js';
import { cacheStatus } from '../weights-cache.js';

/** One row of `fastts models`. */
export interface ModelInfo {
  arch: string;
  description: string;
  preprocessing: string;
  inputSize: number;
  /** Channels of the body's output (the head's input is twice this, max ++ avg pooling). */
  features: number;
  cached: boolean;
  folder: string;
  missing: string[];
}

/** Lists the architectures with their cache state. */
export function listModels(home: string = fasttsHome()): ModelInfo[] {
  return listArchs().map((arch) => {
    const spec = getArch(arch);
    const status = cacheStatus(spec, pretrainedDir(spec.name, home));
    return {
      arch: spec.name,
      description: spec.description,
      preprocessing: spec.preprocessing.name,
      inputSize: spec.inputSize,
      features: spec.nf,
      cached: status.cached,
      folder: status.folder,
      missing: status.missing,
    };
  });
}

/** Runs `fastts models`. */
export async function runModels(_options: ModelsOptions, ctx: CommandContext): Promise<void> {
  const { reporter } = ctx;
  const home = fasttsHome();
  const models = listModels(home);
  const offline = isOffline();
  if (reporter.json) {
    reporter.result({ home, offline, models });
    return;
  }
  const s = reporter.style;
  const width = Math.max(...models.map((m) => m.arch.length), 4);
  reporter.out(s.bold(`${'arch'.padEnd(width)}  ${'prep'.padEnd(8)}  weights`));
  for (const m of models) {
    const state = m.cached ? s.green('cached') : offline ? s.yellow('missing (offline)') : s.dim('downloads on first use');
    reporter.out(`${m.arch.padEnd(width)}  ${m.preprocessing.padEnd(8)}  ${state}`);
  }
  reporter.out();
  reporter.out(
    `weight cache: ${home}/models/<arch>/ (set FASTTS_HOME to move it${offline ? '; FASTTS_OFFLINE is set: no downloads' : ''})`,
  );
}

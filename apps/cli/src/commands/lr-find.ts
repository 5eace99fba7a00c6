/** `fastts lr-find <dataDir>`: fast.ai's learning-rate finder, its suggestions and `lr_find.png`. */
import { resolve } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { cnnLearner, getArch, loadPretrained, ProgressCallback, svgToPng } from '@fastts/node-gpu';
import { setupCliBackend } from '../backend.js';
import type { CommandContext } from '../context.js';
import { displayPath } from '../paths.js';
import { loadData, resolveDataSettings } from '../data.js';
import { UsageError } from '../errors.js';
import { fitProgress } from '../fit-progress.js';
import type { LrFindOptions } from '../options.js';
import { lrFindSvg } from '../plots.js';
import { prepareOutputFile } from '../run-dir.js';

/** Runs `fastts lr-find`. */
export async function runLrFind(dataDir: string, options: LrFindOptions, ctx: CommandContext): Promise<void> {
  const { io, reporter, interrupts } = ctx;
  if (!(options.endLr > options.startLr)) {
    throw new UsageError(`--end-lr ${options.endLr} must be larger than --start-lr ${options.startLr}`, {
      hint: 'the sweep goes up, e.g. --start-lr 1e-7 --end-lr 10',
    });
  }
  if (options.numIt < 2) throw new UsageError('--num-it must be at least 2', { hint: 'the default is 100' });
  const settings = resolveDataSettings(dataDir, options, io.cwd);
  delete settings.test;
  const spec = getArch(options.arch);
  const out = prepareOutputFile(resolve(io.cwd, options.out));
  const backend = await setupCliBackend(options, reporter);
  reporter.log(`backend: ${backend.description}`);
  const data = await loadData(settings, reporter);
  const weights = options.pretrained ? await loadPretrained(spec.name) : undefined;
  const progress = fitProgress(reporter, 'lr-find');
  let learn;
  try {
    learn = await cnnLearner(data, spec.name, { ...(weights ? { weights } : {}), pretrained: options.pretrained });
  } finally {
    weights?.dispose();
  }
  try {
    learn.callbacks.push(new ProgressCallback((e) => (e.type === 'batch' ? progress(e) : undefined)));
    const result = await learn.lrFind({
      startLr: options.startLr,
      endLr: options.endLr,
      numIt: options.numIt,
      signal: interrupts.signal,
    });
    await writeFile(out, await svgToPng(lrFindSvg(result.lrs, result.losses, result.suggestions)));
    const { lrValley, lrSteep, lrMin } = result.suggestions;
    reporter.result({
      arch: spec.name,
      suggestions: { valley: lrValley ?? null, steep: lrSteep ?? null, minimum: lrMin ?? null },
      lrs: result.lrs,
      losses: result.losses,
      plot: out,
    });
    const f = (v: number | undefined) => (v === undefined ? 'n/a (too few points)' : v.toExponential(2));
    reporter.out(`suggested learning rates (${result.lrs.length} batches):`);
    reporter.out(`  valley   ${f(lrValley)}   (fast.ai's default suggestion)`);
    reporter.out(`  steep    ${f(lrSteep)}   (steepest descent of the loss)`);
    reporter.out(`  min/10   ${f(lrMin)}   (minimum loss / 10)`);
    reporter.out(
      `wrote ${displayPath(io.cwd, out)}; train with e.g. fastts train ${dataDir} --arch ${spec.name} --lr ${lrValley !== undefined ? lrValley.toExponential(1) : '3e-3'}`,
    );
  } finally {
    await learn.dispose();
  }
}

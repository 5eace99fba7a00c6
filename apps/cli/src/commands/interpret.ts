/** `fastts interpret <runDir>`: re-renders a run's confusion matrix and top losses, prints the most confused pairs. */
import { relative, resolve } from 'node:path';
import { setupCliBackend } from '../backend.js';
import type { CommandContext } from '../context.js';
import { displayPath } from '../paths.js';
import { writeInterpretation } from '../interpretation.js';
import { findExport } from '../model-file.js';
import type { InterpretOptions } from '../options.js';
import { prepareOutputDir } from '../run-dir.js';
import { learnerFromExport, readRunConfig } from '../run-learner.js';

/** Runs `fastts interpret`. */
export async function runInterpret(runDir: string, options: InterpretOptions, ctx: CommandContext): Promise<void> {
  const { io, reporter } = ctx;
  const { dir, config } = readRunConfig(runDir, io.cwd);
  const exportFile = findExport(dir, io.cwd);
  const outDir = prepareOutputDir(options.out ? resolve(io.cwd, options.out) : dir);
  await setupCliBackend(options, reporter);
  const learn = await learnerFromExport(config, exportFile, reporter, {
    cwd: io.cwd,
    ...(options.data ? { dataDir: options.data } : {}),
  });
  try {
    const summary = await writeInterpretation(learn, outDir, {
      topLosses: options.topLosses,
      minVal: options.minVal,
      dataDir: options.data ? resolve(io.cwd, options.data) : config.dataDir,
    });
    const files = summary.files.map((f) => displayPath(io.cwd, f));
    reporter.result({
      runDir: dir,
      accuracy: summary.accuracy,
      validLoss: summary.validLoss,
      confusion: summary.confusion,
      classes: config.classes,
      mostConfused: summary.mostConfused.map(([actual, predicted, count]) => ({ actual, predicted, count })),
      topLosses: summary.topLosses,
      files,
    });
    if (reporter.json) return;
    reporter.out(
      `valid: accuracy ${summary.accuracy.toFixed(4)}, loss ${summary.validLoss.toFixed(4)} (${config.classes.length} classes)`,
    );
    reporter.out('most confused (actual -> predicted: count):');
    if (summary.mostConfused.length === 0) reporter.out('  none');
    for (const [a, p, n] of summary.mostConfused) reporter.out(`  ${a} -> ${p}: ${n}`);
    reporter.out(`top losses (prediction/actual/loss/probability):`);
    for (const t of summary.topLosses) {
      reporter.out(
        `  ${t.predicted}/${t.actual}  ${t.loss.toFixed(2)}  ${t.probability.toFixed(2)}  ${t.item ? relative(config.dataDir, t.item) : t.index}`,
      );
    }
    reporter.out(`wrote ${files.join(', ')}`);
  } finally {
    await learn.dispose();
  }
}

/**
 * How `fastts train` ends when it does not finish: Ctrl-C (or SIGTERM) leaves an `interrupted` status with the
 * point `--resume` continues from and exits 130 (143); any other error leaves `failed` with its one-line message,
 * keeping the last epoch's resume point so that `--resume` can continue after the cause is fixed.
 */
import { relative } from 'node:path';
import { FitInterruptedError } from '@fastts/node-gpu';
import { InterruptedError, toCliError } from '../errors.js';
import { displayPath } from '../paths.js';
import type { ResumePoint, RunStatusFile } from '../run-dir.js';
import type { TrainConfig } from './config.js';
import type { TrainProgress } from './phases.js';

/** What {@link trainFailed} needs to know. */
export interface FailureContext {
  config: TrainConfig;
  runDir: string;
  /** The run folder as the user names it. */
  rel: string;
  cwd: string;
  status: RunStatusFile;
  progress: TrainProgress;
  /** Batches per training epoch (0 before the data was read). */
  batchesPerEpoch: number;
  /** What stopped it, in words (`Ctrl-C`, `SIGTERM`). */
  stoppedBy: string;
}

/** Where an interruption leaves the run: the point `--resume` continues from, if there is one. */
function interruptedAt(err: unknown, c: FailureContext): ResumePoint | undefined {
  const { progress } = c;
  if (err instanceof FitInterruptedError && err.checkpoint) {
    // Ctrl-C mid-epoch: restart that epoch with the weights of its last finished batch (its batches leave the log);
    // right after an epoch ended: the next one.
    const ended = err.batch >= c.batchesPerEpoch;
    return {
      phase: progress.phase,
      epoch: err.epoch + (ended ? 1 : 0),
      checkpoint: relative(c.runDir, err.checkpoint),
      iters: progress.iters - (ended ? 0 : err.batch),
    };
  }
  // Ctrl-C while writing the results: the last epoch's checkpoint holds the trained weights; --resume only writes them.
  if (err instanceof InterruptedError && progress.trainingDone) return progress.point;
  return undefined;
}

/** Records how the run stopped in status.json and throws the error the CLI reports. */
export function trainFailed(err: unknown, c: FailureContext): never {
  const totalIters = c.config.totalIters;
  const interrupted = err instanceof InterruptedError || err instanceof FitInterruptedError;
  const point = interrupted ? interruptedAt(err, c) : undefined;
  if (point) {
    const line = `stopped by ${c.stoppedBy} during ${point.phase} epoch ${point.epoch}; the checkpoint is ${displayPath(c.cwd, `${c.runDir}/${point.checkpoint}`)}`;
    c.status.write('interrupted', { error: line, checkpoint: point.checkpoint, totalIters, resume: point });
    throw new InterruptedError(line, { hint: `resume with: fastts train --resume ${c.rel}`, cause: err });
  }
  const last = c.progress.point;
  if (interrupted) {
    if (last) {
      // stopped before the first checkpoint of this process: the last one recorded still holds
      const line = `stopped by ${c.stoppedBy}; the last checkpoint is ${last.checkpoint} (${last.phase} epoch ${last.epoch})`;
      c.status.write('interrupted', { error: line, checkpoint: last.checkpoint, totalIters, resume: last });
      throw new InterruptedError(line, { hint: `resume with: fastts train --resume ${c.rel}`, cause: err });
    }
    c.status.write('interrupted', { error: `stopped by ${c.stoppedBy} before training started: nothing to resume` });
    throw new InterruptedError(`stopped by ${c.stoppedBy} before training started`, {
      hint: 'nothing to resume; run the command again',
      cause: err,
    });
  }
  c.status.write('failed', {
    error: toCliError(err).line,
    ...(last ? { checkpoint: last.checkpoint, resume: last, totalIters } : {}),
  });
  throw err;
}

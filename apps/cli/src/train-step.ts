/**
 * How `fastts train` runs its training steps: in this process (the Learner's default step), or data-parallel on
 * worker threads (`visionDataParallelStep` of `@fastts/node-gpu`: one single-threaded wasm replica per thread,
 * micro-batches sized to the wasm heap, gradients averaged in shared memory).
 */
import { cpus } from 'node:os';
import { visionDataParallelStep, type TrainStep, type VisionLearner } from '@fastts/node-gpu';
import { UsageError } from './errors.js';
import type { Reporter } from './output.js';

/** `--parallel`: `auto` uses worker threads when the backend is wasm. */
export type ParallelChoice = 'auto' | 'on' | 'off';

/**
 * The data-parallel step for `learn` when it applies (`on` or `auto`, with the wasm backend), else undefined (the
 * Learner keeps its in-process step). `on` where it cannot apply is a usage error.
 */
export async function chooseTrainStep(
  learn: VisionLearner,
  options: { parallel: ParallelChoice; threads: number | undefined },
  reporter: Reporter,
): Promise<TrainStep | undefined> {
  if (options.parallel === 'off') return undefined;
  const workers = options.threads ?? Math.min(8, cpus().length);
  const choice = await visionDataParallelStep(learn, { workers, log: (line) => reporter.log(line) });
  if (!choice.step && options.parallel === 'on') {
    throw new UsageError(`--parallel on: data-parallel training is not possible here (${choice.reason})`, {
      hint: 'use --backend wasm, or leave --parallel at auto',
    });
  }
  return choice.step;
}

/**
 * The data-parallel step for a vision learner (`cnnLearner`'s model), sized to the wasm heap: what `fastts train`
 * and the tutorial use on the CPU.
 */
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { trainingBytesPerImage, WASM_STEP_BUDGET, type VisionTrainStepFactory } from '@fastts/core/platform';
import { type VisionExportInfo, type VisionLearner } from '@fastts/core';
import { DataParallelError } from '../errors.js';
import { planWorkers } from './plan.js';
import { DataParallelStep } from './train-step.js';

/** Options of {@link visionDataParallelStep}. */
export interface VisionDataParallelOptions {
  /** Replicas on worker threads (default: {@link planWorkers}' choice for the cores and memory). */
  workers?: number;
  /** Threads per replica (default: {@link planWorkers}' choice; 1 on small machines). */
  threadsPerWorker?: number;
  /** Peak bytes a worker's micro-batch may take (default `WASM_STEP_BUDGET`). */
  memoryBudget?: number;
  /** Where to say what was chosen (one line). */
  log?: (line: string) => void;
}

/** The data-parallel step, or why there is none. */
export type VisionDataParallelChoice =
  { step: DataParallelStep; workers: number; microBatch: number; bytesPerImage: number } | { step: undefined; reason: string };

/**
 * A {@link DataParallelStep} for `learn` (one single-threaded wasm replica of its model per worker, micro-batches
 * sized so that a worker's peak stays within `memoryBudget`), when it applies: the wasm backend and the default
 * loss. Otherwise `{ step: undefined, reason }`. One worker is useful too: the main thread then only decodes,
 * augments and updates the weights while the worker computes.
 */
export async function visionDataParallelStep(
  learn: VisionLearner,
  options: VisionDataParallelOptions = {},
  defaultLoss = true,
): Promise<VisionDataParallelChoice> {
  const budget = options.memoryBudget ?? WASM_STEP_BUDGET;
  const plan = planWorkers({ bytesPerReplica: budget });
  const threads = options.threadsPerWorker ?? (options.workers === undefined ? plan.threadsPerWorker : 1);
  const workers =
    options.workers ?? (options.threadsPerWorker === undefined ? plan.workers : Math.max(1, Math.floor(cpus().length / threads)));
  if (tf.getBackend() !== 'wasm') return { step: undefined, reason: `the backend is ${tf.getBackend()}, not wasm` };
  if (!(workers >= 1)) return { step: undefined, reason: `${workers} workers` };
  if (!defaultLoss) return { step: undefined, reason: 'a custom loss function cannot be rebuilt in the workers' };
  const info = learn.exportInfo as unknown as VisionExportInfo;
  const perImage = await trainingBytesPerImage(learn.model, learn.lossFunc, [info.size, info.size, 3], learn.data.c);
  const shard = Math.ceil(learn.data.trainDl.bs / workers);
  // the workers split their share into balanced chunks of at most this many (chunkRanges)
  const microBatch = Math.max(2, Math.min(shard, Math.floor(budget / perImage)));
  const step = await DataParallelStep.create({
    model: { module: '@fastts/core/platform', export: 'createCnnModel', args: [info.arch, learn.data.c, info.head] },
    workers,
    threadsPerWorker: threads,
    microBatch,
    ...(learn.seed !== undefined ? { seed: learn.seed } : {}),
  });
  options.log?.(
    `training step: data-parallel, ${workers} workers x ${threads} thread${threads === 1 ? '' : 's'}, micro-batches of ${microBatch} ` +
      `(${(perImage / 1e6).toFixed(0)} MB per image at the peak of a step)`,
  );
  return { step, workers, microBatch, bytesPerImage: perImage };
}

/**
 * For `registerTrainStepFactory`: every `cnnLearner` created afterwards trains data-parallel when
 * {@link visionDataParallelStep} applies. With `required`, a learner it cannot apply to is an error.
 */
export function visionDataParallelSteps(
  options: VisionDataParallelOptions & { required?: boolean } = {},
): VisionTrainStepFactory {
  return async ({ learn, defaultLoss }) => {
    const choice = await visionDataParallelStep(learn, options, defaultLoss);
    if (!choice.step && options.required)
      throw new DataParallelError(`data-parallel training is not possible here: ${choice.reason}`);
    return choice.step;
  };
}

/**
 * The inner loops of a fit (fast.ai v2's `_do_epoch_train` and `_do_epoch_validate`): one training epoch, batch by
 * batch through the training step, the optimizer and the callbacks, and one validation pass. `Learner.fit` runs
 * them epoch after epoch and handles the fit-level events, stopping and interruption.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { CallbackEvent } from './callback.js';
import type { LearnerData, LearnerDataLoader } from './data.js';
import { LearnerError, NonFiniteLossError } from './errors.js';
import type { LossFunction } from './loss.js';
import type { Metric } from './metrics.js';
import type { AdamW } from './optimizer.js';
import type { AbortSignalLike } from './platform.js';
import { allFinite, nextMacrotask } from './tensor-utils.js';
import type { TrainStep, TrainStepContext } from './train-step.js';
import type { ValidationStats } from './types.js';

/** Runs one event on the fit's callbacks. */
export type RunEvent = (event: CallbackEvent) => Promise<void>;

/** Control flags set by callbacks (`cancelFit`, `stopAfterEpoch`) and read by the loops. */
export interface FitControl {
  cancelFit: boolean;
  stopAfterEpoch: boolean;
  reason: string | undefined;
}

/** The Learner as the loops drive it: what they read, and the fit state they write for callbacks to see. */
export interface LoopLearner {
  readonly data: LearnerData;
  readonly model: Module;
  readonly lossFunc: LossFunction;
  readonly metrics: readonly Metric[];
  readonly opt: AdamW;
  readonly trainStep: TrainStep;
  epoch: number;
  iter: number;
  nIter: number;
  trainIter: number;
  training: boolean;
  loss: number;
  xb: tf.Tensor4D | undefined;
  yb: tf.Tensor1D | undefined;
  cancelFit(reason: string): void;
}

/** Settings of {@link trainEpoch}. */
export interface TrainEpochOptions {
  /** What a non-finite loss or gradient does: throw a `NonFiniteLossError`, or cancel the fit. */
  nonFinite: 'throw' | 'stop';
  signal?: AbortSignalLike | undefined;
  /** Called when `signal` is aborted after a batch, with the epoch and the batches done; expected to throw. */
  onAbort(at: { epoch: number; batch: number }): Promise<never>;
}

/** Throws unless every label is a class index of the data. */
function checkLabels(data: LearnerData, y: Int32Array | Float32Array | Uint8Array, what: string): void {
  for (const v of y) {
    if (!(v >= 0 && v < data.c && Number.isInteger(v))) {
      throw new LearnerError(`${what}: label ${v} is not a class index in [0, ${data.c}) (classes: ${data.classes.join(', ')})`);
    }
  }
}

/** After a batch: clears `xb`/`yb`, frees the batch, counts it in `iter`. */
function endBatch(learn: LoopLearner, x: tf.Tensor, y: tf.Tensor): void {
  learn.xb = undefined;
  learn.yb = undefined;
  tf.dispose([x, y]);
  learn.iter += 1;
}

/**
 * One training epoch: for each batch, `beforeBatch`, the step's gradients, a finite check, `afterLoss`, the
 * optimizer step, `afterStep` and `afterBatch`; stops early when the fit is cancelled or `signal` aborted.
 */
export async function trainEpoch(
  learn: LoopLearner,
  control: FitControl,
  ctx: TrainStepContext,
  run: RunEvent,
  opts: TrainEpochOptions,
): Promise<void> {
  const dl = learn.data.trainDl;
  learn.training = true;
  learn.model.train();
  learn.iter = 0;
  learn.nIter = dl.length;
  await run('beforeTrain');
  for await (const { x, y } of dl) {
    try {
      learn.xb = x;
      learn.yb = y;
      checkLabels(learn.data, await y.data(), `training batch ${learn.iter} of epoch ${learn.epoch}`);
      await run('beforeBatch');
      const { loss, grads } = await learn.trainStep.computeGradients(ctx, x, y);
      try {
        learn.loss = loss;
        const finite = Number.isFinite(loss) && (await allFinite(grads));
        if (!finite) {
          const what = Number.isFinite(loss) ? `the gradients are not finite (loss ${loss})` : `the loss is ${loss}`;
          if (opts.nonFinite === 'stop') {
            learn.cancelFit(`stopped: ${what}`);
          } else {
            throw new NonFiniteLossError(
              `training stopped at epoch ${learn.epoch}, batch ${learn.iter}: ${what} (learning rates ` +
                `${learn.opt.lrs.map((l) => l.toExponential(2)).join(', ')}). The weights are those of the last good ` +
                'step (this batch was not applied). Lower the learning rate (try learn.lrFind()) or check the data.',
              learn.epoch,
              learn.iter,
              loss,
            );
          }
        } else {
          await run('afterLoss');
          learn.opt.step(grads);
        }
      } finally {
        tf.dispose([...grads.values()]);
      }
      if (!control.cancelFit) {
        await learn.trainStep.weightsChanged?.(ctx);
        await run('afterStep');
      }
      await run('afterBatch');
    } finally {
      endBatch(learn, x, y);
    }
    learn.trainIter += 1;
    await nextMacrotask();
    if (control.cancelFit) break;
    if (opts.signal?.aborted) await opts.onAbort({ epoch: learn.epoch, batch: learn.iter });
  }
  await run('afterTrain');
}

/**
 * Loss and metrics on a loader, in eval mode, averaged per item (fast.ai `validate`); with `run`, `afterBatch`
 * after each batch (with `learn.training` false).
 */
export async function validateLoader(learn: LoopLearner, dl: LearnerDataLoader, run?: RunEvent): Promise<ValidationStats> {
  learn.model.eval();
  learn.training = false;
  learn.iter = 0;
  learn.nIter = dl.length;
  let n = 0;
  let lossSum = 0;
  const metricSums = learn.metrics.map(() => 0);
  for await (const { x, y } of dl) {
    try {
      checkLabels(learn.data, await y.data(), `validation batch ${learn.iter}`);
      const bs = x.shape[0];
      const vals = tf.tidy(() => {
        const out = learn.model.forward(x);
        return [learn.lossFunc(out, y), ...learn.metrics.map((m) => m(out, y))];
      });
      const nums = await Promise.all(vals.map(async (v) => (await v.data())[0]!));
      tf.dispose(vals);
      lossSum += nums[0]! * bs;
      nums.slice(1).forEach((v, i) => (metricSums[i]! += v * bs));
      n += bs;
      if (run) {
        learn.xb = x;
        learn.yb = y;
        await run('afterBatch');
      }
    } finally {
      endBatch(learn, x, y);
    }
    await nextMacrotask();
  }
  return { loss: n ? lossSum / n : Number.NaN, metrics: metricSums.map((s) => (n ? s / n : Number.NaN)) };
}

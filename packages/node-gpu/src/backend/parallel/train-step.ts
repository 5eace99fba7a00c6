/**
 * The Learner's pluggable training step (`TrainStep` in @fastts/core's learner) backed by the data-parallel
 * trainer: gradients are computed by the workers and handed back; the Learner's optimizer updates its own model;
 * the new weights are broadcast to the replicas before the next batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StepResult, TrainStep, TrainStepContext } from '@fastts/core/platform';
import { DataParallelError } from '../errors.js';
import { DataParallelTrainer, type DataParallelOptions } from './trainer.js';

/**
 * A `TrainStep` running forward and backward passes on worker threads. The worker-side model (built by
 * `options.model`) must have the same parameter names and shapes as the Learner's model.
 *
 * ```ts
 * const step = await DataParallelStep.create({ model: { module: 'file:///…/my-model.js', export: 'build' } });
 * const learn = new Learner(data, model, { trainStep: step });
 * ```
 */
export class DataParallelStep implements TrainStep {
  readonly name: string;
  private stale = true;

  constructor(readonly trainer: DataParallelTrainer) {
    this.name = `data-parallel x${trainer.workers}`;
  }

  /** Starts the workers (see {@link DataParallelTrainer.create}). */
  static async create(options: DataParallelOptions): Promise<DataParallelStep> {
    return new DataParallelStep(await DataParallelTrainer.create(options));
  }

  private async broadcast(ctx: TrainStepContext): Promise<void> {
    const values = new Map<string, tf.Tensor>([...ctx.model.namedParameters(), ...ctx.model.namedBuffers()]);
    for (const name of values.keys()) {
      if (!this.trainer.layout.byName.has(name)) {
        throw new DataParallelError(
          `the Learner's model has '${name}', which the workers' model lacks: both must be the same architecture`,
        );
      }
    }
    await this.trainer.setWeights(values);
    this.stale = false;
  }

  async computeGradients(ctx: TrainStepContext, x: tf.Tensor4D, y: tf.Tensor1D): Promise<StepResult> {
    if (this.stale) await this.broadcast(ctx);
    const r = await this.trainer.computeGradients(x, y, [...ctx.trainable.keys()]);
    for (const [name, v] of ctx.model.namedBuffers()) {
      const values = r.buffers.get(name);
      if (!values) continue;
      tf.tidy(() =>
        v.assign(
          v.dtype === 'int32' ? tf.tensor(Int32Array.from(values, Math.round), v.shape, 'int32') : tf.tensor(values, v.shape),
        ),
      );
    }
    const grads = new Map<string, tf.Tensor>();
    for (const [name, v] of ctx.trainable) {
      const g = r.grads.get(name);
      if (g) grads.set(name, tf.tensor(g, v.shape, 'float32'));
    }
    return { loss: r.loss, grads };
  }

  async weightsChanged(): Promise<void> {
    this.stale = true;
  }

  async dispose(): Promise<void> {
    await this.trainer.dispose();
  }
}

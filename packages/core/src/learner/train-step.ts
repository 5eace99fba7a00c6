/**
 * The training step is pluggable: the default computes the loss and gradients on the active tfjs backend; a
 * platform may provide another (e.g. data-parallel across workers) with the same contract.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/index.js';
import type { LossFunction } from './loss.js';

/** What a training step may use: the model, the loss, and the trainable parameters by name. */
export interface TrainStepContext {
  readonly model: Module;
  readonly lossFunc: LossFunction;
  /** Trainable parameters by state-dict name (what gradients are keyed by). */
  readonly trainable: ReadonlyMap<string, tf.Variable>;
}

/** The result of one step: the batch loss and a gradient per trainable parameter (the caller disposes them). */
export interface StepResult {
  loss: number;
  grads: Map<string, tf.Tensor>;
}

/** A training step strategy. */
export interface TrainStep {
  /** A short name for messages and logs (e.g. `single-backend`, `data-parallel x2`). */
  readonly name: string;
  /**
   * Runs the forward and backward pass of one batch in training mode (updating BatchNorm statistics) and returns
   * the loss and the gradients. Must not modify the parameters; the Learner applies the optimizer.
   */
  computeGradients(ctx: TrainStepContext, x: tf.Tensor4D, y: tf.Tensor1D): Promise<StepResult>;
  /** Called after the Learner changed the weights (optimizer step, load, lrFind restore), for replicas to sync. */
  weightsChanged?(ctx: TrainStepContext): Promise<void>;
  /** Frees what the step holds (workers, buffers). */
  dispose?(): Promise<void> | void;
}

/** The default step: `tf.variableGrads` of `lossFunc(model.forward(x), y)` on the active backend. */
export class SingleBackendStep implements TrainStep {
  readonly name = 'single-backend';

  async computeGradients(ctx: TrainStepContext, x: tf.Tensor4D, y: tf.Tensor1D): Promise<StepResult> {
    const vars = [...ctx.trainable.values()];
    const nameOf = new Map<string, string>();
    for (const [name, v] of ctx.trainable) nameOf.set(v.name, name);
    const { value, grads } = tf.variableGrads(() => ctx.lossFunc(ctx.model.forward(x), y) as tf.Scalar, vars);
    const out = new Map<string, tf.Tensor>();
    for (const [vname, g] of Object.entries(grads)) out.set(nameOf.get(vname) ?? vname, g);
    const loss = (await value.data())[0]!;
    value.dispose();
    return { loss, grads: out };
  }
}

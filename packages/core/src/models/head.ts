/** fast.ai's classifier head for a pretrained body. */
import * as tf from '@tensorflow/tfjs-core';
import { ReLU, Flatten } from '../nn/activation.js';
import { BatchNorm1d } from '../nn/batchnorm.js';
import { Dropout } from '../nn/dropout.js';
import { ModuleConfigError } from '../nn/errors.js';
import { kaimingNormalFanIn } from '../nn/init.js';
import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import { AdaptiveAvgPool2d, AdaptiveConcatPool2d } from '../nn/pooling.js';
import { Sequential } from '../nn/sequential.js';

/** Options of {@link createHead} (fast.ai v1 `create_head` / `cnn_learner` arguments). */
export interface HeadOptions {
  /** Hidden layer sizes (default [512]). */
  linFtrs?: number[];
  /**
   * Dropout: one number = that for the last linear layer and half of it for the others (default 0.5);
   * an array gives one rate per linear layer.
   */
  ps?: number | number[];
  /** Concatenate global max and average pooling (default true): the first linear layer gets 2·nf inputs. */
  concatPool?: boolean;
  /** Add a final BatchNorm1d (momentum 0.01) after the last linear layer (default false). */
  bnFinal?: boolean;
}

/**
 * fast.ai's head: `AdaptiveConcatPool2d -> Flatten -> [BatchNorm1d -> Dropout -> Linear -> ReLU]* ->
 * BatchNorm1d -> Dropout -> Linear(numClasses)`, children named `0`, `1`, … as in fast.ai (so a
 * `Sequential(body, head)` has fast.ai's state-dict names). Linear weights are kaiming-normal initialized with
 * zero biases, as fast.ai's `apply_init`.
 * @param nf channels of the body's output (`ArchModel.nf`); doubled internally when `concatPool`
 */
export function createHead(nf: number, numClasses: number, options: HeadOptions = {}): Sequential {
  const concatPool = options.concatPool ?? true;
  if (!(Number.isInteger(numClasses) && numClasses >= 1)) {
    throw new ModuleConfigError(`createHead: numClasses must be a positive integer, got ${numClasses}`);
  }
  const sizes = [concatPool ? 2 * nf : nf, ...(options.linFtrs ?? [512]), numClasses];
  const nLin = sizes.length - 1;
  const psIn = options.ps ?? 0.5;
  const ps = Array.isArray(psIn) ? psIn : [...Array<number>(nLin - 1).fill(psIn / 2), psIn];
  if (ps.length !== nLin) throw new ModuleConfigError(`createHead: ${ps.length} dropout rates for ${nLin} linear layers`);
  const layers: Module[] = [concatPool ? new AdaptiveConcatPool2d() : new AdaptiveAvgPool2d(1), new Flatten()];
  for (let i = 0; i < nLin; i++) {
    const lin = new Linear(sizes[i]!, sizes[i + 1]!, { init: kaimingNormalFanIn });
    lin.bias!.assign(tf.zerosLike(lin.bias!));
    layers.push(new BatchNorm1d(sizes[i]!), new Dropout(ps[i]!), lin);
    if (i < nLin - 1) layers.push(new ReLU());
  }
  if (options.bnFinal) layers.push(new BatchNorm1d(numClasses, { momentum: 0.01 }));
  return new Sequential(...layers);
}

/**
 * Layer groups (fast.ai's split of a model for discriminative learning rates and freezing): which group each
 * parameter belongs to, which are BatchNorm parameters, freezing, and the AdamW optimizer over the groups.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { BatchNorm } from '../nn/batchnorm.js';
import type { Module } from '../nn/module.js';
import { HyperParameterError, LearnerConfigError } from './errors.js';
import { lrRange, slice } from './lr.js';
import { AdamW } from './optimizer.js';

/** AdamW settings of a Learner's optimizer. */
export interface OptimizerSettings {
  beta2: number;
  eps: number;
  wd: number;
  /** Weight decay on BatchNorm and bias parameters too. */
  wdBnBias: boolean;
}

/** A model's parameters by name, mapped to their layer groups (each parameter in exactly one). */
export class ParamGroups {
  /** Every parameter by state-dict name, in model order. */
  readonly byName = new Map<string, tf.Variable>();
  private readonly groupOf = new Map<string, number>();
  private readonly bn = new Set<string>();

  /** @throws LearnerConfigError when a parameter is in no group or in two, or a group holds a foreign module */
  constructor(
    model: Module,
    readonly layerGroups: readonly Module[][],
  ) {
    if (layerGroups.length === 0) throw new LearnerConfigError('Learner: layerGroups must not be empty');
    const idOf = new Map<tf.Variable, string>();
    for (const [name, p] of model.namedParameters()) {
      idOf.set(p, name);
      this.byName.set(name, p);
    }
    layerGroups.forEach((group, gi) => {
      for (const m of group) {
        for (const [, sub] of m.namedModules()) {
          const isBn = sub instanceof BatchNorm;
          for (const [, p] of sub.namedParameters()) {
            const name = idOf.get(p);
            if (name === undefined)
              throw new LearnerConfigError('Learner: a layer group holds a module that is not part of the model');
            const prev = this.groupOf.get(name);
            if (prev !== undefined && prev !== gi) {
              throw new LearnerConfigError(`Learner: parameter "${name}" is in layer groups ${prev} and ${gi}`);
            }
            this.groupOf.set(name, gi);
            if (isBn) this.bn.add(name);
          }
        }
      }
    });
    const orphans = [...this.byName.keys()].filter((n) => !this.groupOf.has(n));
    if (orphans.length > 0) {
      throw new LearnerConfigError(
        `Learner: ${orphans.length} parameters belong to no layer group (e.g. "${orphans[0]}"): give layerGroups that cover the model`,
      );
    }
  }

  /** Number of layer groups. */
  get length(): number {
    return this.layerGroups.length;
  }

  /** The layer group index of every parameter, by name. */
  groups(): Map<string, number> {
    return new Map(this.groupOf);
  }

  /** A new AdamW over the groups (learning rates `slice(3e-3)` until a fit sets them, momentum 0.9). */
  createOptimizer(s: OptimizerSettings): AdamW {
    const groups = this.layerGroups.map(() => [] as { name: string; variable: tf.Variable; bnOrBias: boolean }[]);
    for (const [name, p] of this.byName) {
      groups[this.groupOf.get(name)!]!.push({ name, variable: p, bnOrBias: this.bn.has(name) || /(^|\.)bias$/.test(name) });
    }
    return new AdamW(groups, { lr: lrRange(slice(3e-3), groups.length), mom: 0.9, ...s });
  }

  /**
   * Makes groups `[0, n)` untrainable and the rest trainable (negative `n` counts from the end); BatchNorm
   * parameters stay trainable in frozen groups when `trainBn`.
   */
  freezeTo(n: number, trainBn: boolean): void {
    if (!Number.isInteger(n)) throw new HyperParameterError(`freezeTo(n): n must be an integer, got ${n}`);
    const k = n < 0 ? Math.max(0, this.length + n) : Math.min(n, this.length);
    for (const [name, p] of this.byName) {
      p.trainable = this.groupOf.get(name)! >= k || (trainBn && this.bn.has(name));
    }
  }

  /** The trainable parameters by name. */
  trainable(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, p] of this.byName) if (p.trainable) out.set(name, p);
    return out;
  }
}

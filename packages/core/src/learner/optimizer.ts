/**
 * AdamW as fast.ai uses it: Adam (beta2 0.99, eps 1e-5) with decoupled ("true") weight decay, one learning rate
 * and one momentum (beta1) per layer group, both set by the scheduler before every batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, HyperParameterError } from './errors.js';

/** One optimized parameter. */
export interface OptimParam {
  /** Unique name (the model's state-dict key, e.g. `0.layer1.0.conv1.weight`). */
  name: string;
  /** The variable updated in place. */
  variable: tf.Variable;
  /** True for parameters exempt from weight decay when `wdBnBias` is false (BatchNorm and bias parameters). */
  bnOrBias?: boolean;
}

/** Hyper-parameters of AdamW. */
export interface AdamWOptions {
  /** Learning rate, one per group or one for all. Default 1e-3. */
  lr?: number | readonly number[];
  /** Momentum (beta1), one per group or one for all. Default 0.9. */
  mom?: number | readonly number[];
  /** Default 0.99 (fast.ai). */
  beta2?: number;
  /** Default 1e-5 (fast.ai v2). */
  eps?: number;
  /** Decoupled weight decay. Default 0.01. */
  wd?: number;
  /**
   * Apply weight decay to BatchNorm and bias parameters too. Default true (fast.ai v1 `bn_wd=True`);
   * false matches fast.ai v2's `wd_bn_bias=False`.
   */
  wdBnBias?: boolean;
}

/** Serializable optimizer state: per-parameter moments plus hyper-parameters and step counts. */
export interface OptimizerState {
  /** `<param>.exp_avg` and `<param>.exp_avg_sq` moments; the caller owns (and disposes) these tensors. */
  tensors: Record<string, tf.Tensor>;
  /** Hyper-parameters and per-parameter step counts. */
  meta: {
    lrs: number[];
    moms: number[];
    beta2: number;
    eps: number;
    wd: number;
    wdBnBias: boolean;
    steps: Record<string, number>;
  };
}

interface ParamState {
  step: number;
  expAvg: tf.Variable;
  expAvgSq: tf.Variable;
}

let optimizerId = 0;
/** A non-trainable variable holding `init()` (the temporary is freed; variable names are made unique). */
function newVariable(init: () => tf.Tensor, name: string): tf.Variable {
  optimizerId += 1;
  return tf.tidy(() => tf.variable(init(), false, `adamw${optimizerId}/${name}`));
}

function perGroup(v: number | readonly number[], n: number, what: string): number[] {
  if (typeof v === 'number') return new Array<number>(n).fill(v);
  if (v.length !== n) throw new HyperParameterError(`AdamW: got ${v.length} values of ${what} for ${n} parameter groups`);
  return [...v];
}

/**
 * AdamW over parameter groups (fast.ai layer groups). Per step, for each parameter with a gradient:
 * `p *= 1 - lr*wd`; `m = beta1*m + (1-beta1)*g`; `v = beta2*v + (1-beta2)*g^2`;
 * `p -= lr/(1-beta1^t) * m / (sqrt(v/(1-beta2^t)) + eps)` — fast.ai v2's `adam_step` with `weight_decay`.
 */
export class AdamW {
  readonly groups: OptimParam[][];
  lrs: number[];
  moms: number[];
  beta2: number;
  eps: number;
  wd: number;
  wdBnBias: boolean;
  private readonly state = new Map<string, ParamState>();
  private readonly byName = new Map<string, { param: OptimParam; group: number }>();

  constructor(groups: OptimParam[][], opts: AdamWOptions = {}) {
    if (groups.length === 0) throw new HyperParameterError('AdamW needs at least one parameter group');
    this.groups = groups;
    groups.forEach((g, gi) => {
      for (const p of g) {
        if (this.byName.has(p.name)) throw new HyperParameterError(`AdamW: parameter "${p.name}" appears twice in the groups`);
        this.byName.set(p.name, { param: p, group: gi });
      }
    });
    this.lrs = perGroup(opts.lr ?? 1e-3, groups.length, 'lr');
    this.moms = perGroup(opts.mom ?? 0.9, groups.length, 'mom');
    this.beta2 = opts.beta2 ?? 0.99;
    this.eps = opts.eps ?? 1e-5;
    this.wd = opts.wd ?? 0.01;
    this.wdBnBias = opts.wdBnBias ?? true;
    if (!(this.beta2 >= 0 && this.beta2 < 1)) throw new HyperParameterError(`AdamW: beta2 must be in [0, 1), got ${this.beta2}`);
    if (!(this.eps > 0)) throw new HyperParameterError(`AdamW: eps must be > 0, got ${this.eps}`);
    if (!(this.wd >= 0)) throw new HyperParameterError(`AdamW: weight decay must be >= 0, got ${this.wd}`);
  }

  /** Sets the learning rate and/or momentum of every group (a number for all, or one per group). */
  setHypers(h: { lr?: number | readonly number[]; mom?: number | readonly number[] }): void {
    if (h.lr !== undefined) this.lrs = perGroup(h.lr, this.groups.length, 'lr');
    if (h.mom !== undefined) this.moms = perGroup(h.mom, this.groups.length, 'mom');
  }

  /** Names of all parameters, in group order. */
  paramNames(): string[] {
    return [...this.byName.keys()];
  }

  /**
   * Applies one update with `grads` (keyed by parameter name; parameters without a gradient are left alone,
   * as frozen parameters are). The gradients are not disposed.
   */
  step(grads: Record<string, tf.Tensor> | Map<string, tf.Tensor>): void {
    const entries = grads instanceof Map ? [...grads.entries()] : Object.entries(grads);
    for (const [name, g] of entries) {
      const e = this.byName.get(name);
      if (!e) throw new HyperParameterError(`AdamW.step: got a gradient for "${name}", which is in no parameter group`);
      const { param, group } = e;
      if (!g.shape.every((d, i) => d === param.variable.shape[i]) || g.rank !== param.variable.rank) {
        throw new HyperParameterError(
          `AdamW.step: gradient of "${name}" has shape [${g.shape}] but the parameter has [${param.variable.shape}]`,
        );
      }
      let st = this.state.get(name);
      if (!st) {
        st = {
          step: 0,
          expAvg: newVariable(() => tf.zerosLike(param.variable), `${name}.exp_avg`),
          expAvgSq: newVariable(() => tf.zerosLike(param.variable), `${name}.exp_avg_sq`),
        };
        this.state.set(name, st);
      }
      const s = st;
      s.step += 1;
      const lr = this.lrs[group]!;
      const beta1 = this.moms[group]!;
      const beta2 = this.beta2;
      const wd = param.bnOrBias && !this.wdBnBias ? 0 : this.wd;
      const debias1 = 1 - beta1 ** s.step;
      const debias2 = 1 - beta2 ** s.step;
      tf.tidy(() => {
        const m = tf.add(tf.mul(s.expAvg, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(s.expAvgSq, beta2), tf.mul(tf.square(g), 1 - beta2));
        const p0 = wd !== 0 ? tf.mul(param.variable, 1 - lr * wd) : param.variable;
        const denom = tf.add(tf.sqrt(tf.div(v, debias2)), this.eps);
        const p = tf.sub(p0, tf.mul(tf.div(m, denom), lr / debias1));
        s.expAvg.assign(m);
        s.expAvgSq.assign(v);
        param.variable.assign(p);
      });
    }
  }

  /** The optimizer state; the returned tensors are fresh copies the caller must dispose. */
  stateDict(): OptimizerState {
    const tensors: Record<string, tf.Tensor> = {};
    const steps: Record<string, number> = {};
    for (const [name, st] of this.state) {
      tensors[`${name}.exp_avg`] = tf.clone(st.expAvg);
      tensors[`${name}.exp_avg_sq`] = tf.clone(st.expAvgSq);
      steps[name] = st.step;
    }
    return {
      tensors,
      meta: {
        lrs: [...this.lrs],
        moms: [...this.moms],
        beta2: this.beta2,
        eps: this.eps,
        wd: this.wd,
        wdBnBias: this.wdBnBias,
        steps,
      },
    };
  }

  /** Restores a state from `stateDict()` (tensors are copied; the caller keeps ownership of `state.tensors`). */
  loadStateDict(state: OptimizerState): void {
    const { meta, tensors } = state;
    for (const name of Object.keys(meta.steps)) {
      const e = this.byName.get(name);
      if (!e) throw new CheckpointError(`optimizer state has moments for "${name}", which this model does not have`);
      const a = tensors[`${name}.exp_avg`];
      const b = tensors[`${name}.exp_avg_sq`];
      if (!a || !b) throw new CheckpointError(`optimizer state lacks the moments of "${name}"`);
      const shape = e.param.variable.shape;
      if (a.shape.join(',') !== shape.join(',') || b.shape.join(',') !== shape.join(',')) {
        throw new CheckpointError(`optimizer moments of "${name}" have shape [${a.shape}] but the parameter has [${shape}]`);
      }
    }
    this.resetState();
    for (const [name, step] of Object.entries(meta.steps)) {
      this.state.set(name, {
        step,
        expAvg: newVariable(() => tf.clone(tensors[`${name}.exp_avg`]!), `${name}.exp_avg`),
        expAvgSq: newVariable(() => tf.clone(tensors[`${name}.exp_avg_sq`]!), `${name}.exp_avg_sq`),
      });
    }
    if (meta.lrs.length === this.groups.length) this.lrs = [...meta.lrs];
    if (meta.moms.length === this.groups.length) this.moms = [...meta.moms];
    this.beta2 = meta.beta2;
    this.eps = meta.eps;
    this.wd = meta.wd;
    this.wdBnBias = meta.wdBnBias;
  }

  /** Number of updates applied to parameter `name` (0 if never). */
  stepCount(name: string): number {
    return this.state.get(name)?.step ?? 0;
  }

  /** Drops all moments (as if freshly created). */
  resetState(): void {
    for (const st of this.state.values()) {
      st.expAvg.dispose();
      st.expAvgSq.dispose();
    }
    this.state.clear();
  }

  /** Frees the optimizer's tensors. */
  dispose(): void {
    this.resetState();
  }
}

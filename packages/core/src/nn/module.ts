/**
 * A small torch-like module system on tfjs-core: modules own named parameters (trainable `tf.Variable`s) and
 * buffers (non-trainable `tf.Variable`s such as BatchNorm running statistics) and child modules; dotted names
 * follow PyTorch (`layer1.0.conv1.weight`, `bn1.running_mean`) so that PyTorch state dicts load by name.
 */
import * as tf from '@tensorflow/tfjs-core';
import { StateDictError, ModuleConfigError, type ShapeMismatch } from './errors.js';
import { nativeToTorch, torchShapeOf, torchToNative, type StateDictLayout, type TorchLayout } from './layout.js';

/** A trainable (or frozen) weight: a `tf.Variable` whose `trainable` flag says whether optimizers update it. */
export type Parameter = tf.Variable;

/** A name -> tensor map, as produced by {@link Module.stateDict} and the weight readers. */
export type StateDict = Map<string, tf.Tensor>;

/** Anything {@link Module.loadStateDict} accepts: a `Map` or a plain object of tensors. */
export type StateDictLike = ReadonlyMap<string, tf.Tensor> | Readonly<Record<string, tf.Tensor>>;

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /**
   * When true (default) every key of the module must be present and every key of the state dict must belong to
   * the module. When false, missing and unexpected keys are reported in the result instead of thrown.
   * Shape mismatches always throw, as in PyTorch.
   */
  strict?: boolean;
  /** Layout of the incoming tensors: `torch` (default; OIHW convs, [out,in] linears) or `native` (HWIO, [in,out]). */
  layout?: StateDictLayout;
}

/** What {@link Module.loadStateDict} did not load (only non-empty when `strict: false`). */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Options of {@link Module.stateDict}. */
export interface StateDictOptions {
  /** `torch` (default): PyTorch layouts, loadable by `torch.load` + `load_state_dict`; `native`: TF.js layouts. */
  layout?: StateDictLayout;
}

interface TensorSlot {
  variable: tf.Variable;
  layout: TorchLayout;
  /** Optional slots (BatchNorm's `num_batches_tracked`) may be absent from a state dict without being "missing". */
  optional: boolean;
}

function toEntries(sd: StateDictLike): Map<string, tf.Tensor> {
  if (sd instanceof Map) return sd as Map<string, tf.Tensor>;
  return new Map(Object.entries(sd as Record<string, tf.Tensor>));
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Base class of every layer and model. Subclasses register their parameters, buffers and children in the
 * constructor, and implement {@link Module.forward}. Forward passes take and return NHWC tensors (channels last).
 *
 * ```ts
 * class Block extends Module {
 *   readonly conv = this.registerModule('conv', new Conv2d(3, 8, 3, { padding: 1 }));
 *   readonly bn = this.registerModule('bn', new BatchNorm2d(8));
 *   forward(x: tf.Tensor4D) { return tf.relu(this.bn.forward(this.conv.forward(x))); }
 * }
 * ```
 */
export abstract class Module {
  /** Training mode (BatchNorm uses batch statistics, Dropout drops); set with {@link train} / {@link eval}. */
  training = true;

  private readonly params = new Map<string, TensorSlot>();
  private readonly buffers = new Map<string, TensorSlot>();
  private readonly modules = new Map<string, Module>();

  /** Computes the module's output. Inputs are NHWC (images) or [N, features]. */
  abstract forward(x: tf.Tensor): tf.Tensor;

  /** A short description of the module's configuration, shown by {@link toString} (like torch's extra_repr). */
  protected extraRepr(): string {
    return '';
  }

  // ---------------------------------------------------------------------------------------------------------
  // registration

  /**
   * Registers a trainable parameter, taking ownership of `init` (it becomes the variable's value).
   * @param layout how the PyTorch layout of this weight differs from the native one (for state dicts)
   */
  protected registerParameter(name: string, init: tf.Tensor, layout: TorchLayout = 'none'): Parameter {
    this.checkName(name);
    const variable = tf.variable(init, true, undefined, init.dtype);
    init.dispose();
    this.params.set(name, { variable, layout, optional: false });
    return variable;
  }

  /**
   * Registers a buffer: state that is saved and loaded with the weights but never trained (running statistics).
   * @param optional when true, a state dict lacking this key is not reported as missing (torch's
   *   `num_batches_tracked`, absent from old and Keras checkpoints)
   */
  protected registerBuffer(name: string, init: tf.Tensor, optional = false): tf.Variable {
    this.checkName(name);
    const variable = tf.variable(init, false, undefined, init.dtype);
    init.dispose();
    this.buffers.set(name, { variable, layout: 'none', optional });
    return variable;
  }

  /** Registers a child module under `name` (its parameters get the dotted prefix `name.`). Returns the child. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.checkName(name);
    this.modules.set(name, module);
    return module;
  }

  private checkName(name: string): void {
    if (name === '' || name.includes('.')) {
      throw new ModuleConfigError(`${this.constructor.name}: invalid name '${name}' (must be non-empty, without dots)`);
    }
    if (this.params.has(name) || this.buffers.has(name) || this.modules.has(name)) {
      throw new ModuleConfigError(`${this.constructor.name}: '${name}' is already registered`);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // traversal

  /** Direct children as `[name, module]` pairs, in registration order. */
  namedChildren(): Array<[string, Module]> {
    return [...this.modules.entries()];
  }

  /** Direct children, in registration order. */
  children(): Module[] {
    return [...this.modules.values()];
  }

  /** This module (name `''`) and all its descendants with dotted names, depth first. */
  namedModules(prefix = ''): Array<[string, Module]> {
    const out: Array<[string, Module]> = [[prefix, this]];
    for (const [name, m] of this.modules) out.push(...m.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /** This module and all its descendants. */
  modulesList(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** All parameters with their dotted names (`layer1.0.conv1.weight`), trainable or not. */
  namedParameters(): Array<[string, Parameter]> {
    return this.namedSlots('params').map(([n, s]) => [n, s.variable]);
  }

  /** All parameters, trainable or not. */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Parameters whose `trainable` flag is set (what an optimizer should update). */
  trainableParameters(): Parameter[] {
    return this.parameters().filter((p) => p.trainable);
  }

  /** All buffers with their dotted names (`bn1.running_mean`, `bn1.running_var`, `bn1.num_batches_tracked`). */
  namedBuffers(): Array<[string, tf.Variable]> {
    return this.namedSlots('buffers').map(([n, s]) => [n, s.variable]);
  }

  /** Number of scalar weights in the parameters (not buffers). */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  private namedSlots(kind: 'params' | 'buffers', prefix = ''): Array<[string, TensorSlot]> {
    const out: Array<[string, TensorSlot]> = [];
    for (const [name, slot] of this[kind]) out.push([prefix + name, slot]);
    for (const [name, m] of this.modules) out.push(...m.namedSlots(kind, `${prefix}${name}.`));
    return out;
  }

  /** Parameters then buffers, as torch orders a state dict within each module. */
  private allSlots(prefix = ''): Array<[string, TensorSlot]> {
    const out: Array<[string, TensorSlot]> = [];
    for (const [name, slot] of this.params) out.push([prefix + name, slot]);
    for (const [name, slot] of this.buffers) out.push([prefix + name, slot]);
    for (const [name, m] of this.modules) out.push(...m.allSlots(`${prefix}${name}.`));
    return out;
  }

  // ---------------------------------------------------------------------------------------------------------
  // modes and flags

  /** Sets training mode on this module and all descendants (BatchNorm batch statistics, Dropout active). */
  train(mode = true): this {
    for (const m of this.modulesList()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode (BatchNorm uses running statistics, Dropout is the identity). */
  eval(): this {
    return this.train(false);
  }

  /** Sets the `trainable` flag of every parameter of this module and its descendants (torch `requires_grad_`). */
  requiresGrad(trainable = true): this {
    for (const p of this.parameters()) p.trainable = trainable;
    return this;
  }

  // ---------------------------------------------------------------------------------------------------------
  // state dicts

  /**
   * The module's parameters and buffers by dotted name, as new tensors the caller owns (dispose them).
   * In `torch` layout (default) the result can be written with `writeSafetensors` and loaded by PyTorch.
   */
  stateDict(options: StateDictOptions = {}): StateDict {
    const layout = options.layout ?? 'torch';
    const out: StateDict = new Map();
    for (const [name, slot] of this.allSlots()) {
      out.set(name, layout === 'torch' ? nativeToTorch(slot.variable, slot.layout) : tf.clone(slot.variable));
    }
    return out;
  }

  /** The shape each state-dict key has in the given layout (default `torch`), without creating tensors. */
  stateDictShapes(options: StateDictOptions = {}): Map<string, number[]> {
    const layout = options.layout ?? 'torch';
    return new Map(
      this.allSlots().map(([name, slot]) => [
        name,
        layout === 'torch' ? torchShapeOf(slot.variable.shape, slot.layout) : [...slot.variable.shape],
      ]),
    );
  }

  /**
   * Copies weights from a state dict into this module's parameters and buffers, converting PyTorch layouts
   * (unless `layout: 'native'`). Nothing is modified when a problem is found: missing keys, unexpected keys
   * (both only when `strict`, the default) and wrongly shaped tensors are all reported together by name in a
   * {@link StateDictError}. The caller keeps ownership of the given tensors.
   */
  loadStateDict(stateDict: StateDictLike, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const layout = options.layout ?? 'torch';
    const given = toEntries(stateDict);
    const slots = this.allSlots();
    const known = new Set(slots.map(([n]) => n));
    const missingKeys: string[] = [];
    const mismatches: ShapeMismatch[] = [];
    const plan: Array<[TensorSlot, tf.Tensor]> = [];
    for (const [key, slot] of slots) {
      const t = given.get(key);
      if (t === undefined) {
        if (!slot.optional) missingKeys.push(key);
        continue;
      }
      const expected = layout === 'torch' ? torchShapeOf(slot.variable.shape, slot.layout) : slot.variable.shape;
      if (!sameShape(t.shape, expected)) mismatches.push({ key, expected: [...expected], actual: [...t.shape] });
      else plan.push([slot, t]);
    }
    const unexpectedKeys = [...given.keys()].filter((k) => !known.has(k));
    if (mismatches.length > 0 || (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0))) {
      throw new StateDictError(
        strict ? missingKeys : [],
        strict ? unexpectedKeys : [],
        mismatches,
        `${this.constructor.name}.loadStateDict`,
      );
    }
    for (const [slot, t] of plan) {
      tf.tidy(() => {
        let v = layout === 'torch' ? torchToNative(t, slot.layout, slot.variable.shape) : t;
        if (v.dtype !== slot.variable.dtype) v = tf.cast(v, slot.variable.dtype);
        slot.variable.assign(v);
      });
    }
    return { missingKeys, unexpectedKeys };
  }

  // ---------------------------------------------------------------------------------------------------------
  // lifetime and display

  /** Releases every variable of this module and its descendants. The module is unusable afterwards. */
  dispose(): void {
    for (const slot of [...this.params.values(), ...this.buffers.values()]) slot.variable.dispose();
    for (const m of this.modules.values()) m.dispose();
  }

  /** A torch-like tree of the module and its children. */
  toString(): string {
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (this.modules.size === 0) return `${head})`;
    const lines = [...this.modules].map(([n, m]) => `  (${n}): ${m.toString().split('\n').join('\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}

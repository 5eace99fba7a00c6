/** The common shape of every architecture in the zoo. */
import type * as tf from '@tensorflow/tfjs-core';
import { Module } from '../nn/module.js';

/** Options shared by the architecture constructors. */
export interface ArchModelOptions {
  /** Classes of the classifier (default 1000, the ImageNet head). Ignored without `includeTop`. */
  numClasses?: number;
  /** Build the pooling + classifier on top of the body (default true). False gives the fast.ai "body". */
  includeTop?: boolean;
}

/**
 * A network of the zoo: either the full classifier (`includeTop`, `forward` returns logits `[N, numClasses]`)
 * or its body cut before pooling (`forward` returns features `[N, h, w, nf]`). Inputs are NHWC float32,
 * already preprocessed for the architecture (see `preprocess`). State-dict names follow the architecture's
 * origin (torchvision names for `resnet*`, Keras layer names for the Keras models).
 */
export abstract class ArchModel extends Module {
  /** Registered architecture name, e.g. `resnet34`. */
  abstract readonly arch: string;
  /** Channels of the body's output (the input width of a head). */
  abstract readonly nf: number;
  /** Whether the ImageNet-style pooling + classifier is present. */
  readonly includeTop: boolean;
  /** Classes of the classifier (0 without `includeTop`). */
  readonly numClasses: number;

  constructor(options: ArchModelOptions = {}) {
    super();
    this.includeTop = options.includeTop ?? true;
    this.numClasses = this.includeTop ? (options.numClasses ?? 1000) : 0;
  }

  /**
   * fast.ai layer groups: lists of child modules, for discriminative learning rates and freezing.
   * The body gives two groups (early layers, late layers); with `includeTop` the classifier is a third group.
   */
  abstract layerGroups(): Module[][];

  /**
   * State-dict key prefixes of the classifier (`fc.` for torchvision ResNets): the keys a body does not have.
   */
  abstract readonly headKeyPrefixes: readonly string[];

  /** The body's output for a preprocessed batch: `[N, H/32, W/32, nf]` (also on a full model). */
  abstract features(x: tf.Tensor4D): tf.Tensor4D;

  abstract override forward(x: tf.Tensor4D): tf.Tensor;
}

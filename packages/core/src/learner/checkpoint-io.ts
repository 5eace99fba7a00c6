/**
 * `learn.save` / `learn.load`: the training state (weights, BatchNorm statistics, optimizer state, epochs trained,
 * classes) in one checkpoint file, written atomically through the Learner's storage.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
import { CheckpointError, LearnerError } from './errors.js';
import type { AdamW, OptimizerState } from './optimizer.js';
import type { LearnerStorage } from './storage.js';

/** The `format` field of a training checkpoint's metadata. */
export const CHECKPOINT_FORMAT = 'fastts-checkpoint';
/** The version of the checkpoint and export metadata. */
export const CHECKPOINT_VERSION = 1;

/** Where an interrupted fit stopped (recorded in the checkpoint written on interruption). */
export interface InterruptedAt {
  epoch: number;
  batch: number;
}

/** Metadata stored with a training checkpoint. */
interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  epoch: number;
  classes: readonly string[];
  optimizer?: OptimizerState['meta'];
  interrupted?: InterruptedAt;
}

/** What a checkpoint saves and restores. */
export interface TrainingState {
  readonly model: Module;
  readonly opt: AdamW;
  readonly classes: readonly string[];
  /** Total epochs trained. */
  readonly epochsTrained: number;
}

/** Writes `state` to `file` (atomically, as the storage writes every file). */
export async function saveTrainingState(
  storage: LearnerStorage,
  file: string,
  state: TrainingState,
  interrupted?: InterruptedAt,
): Promise<void> {
  const sd = state.model.stateDict({ layout: 'native' });
  const opt = state.opt.stateDict();
  const tensors = new Map<string, tf.Tensor>();
  for (const [k, t] of sd) tensors.set(`model.${k}`, t);
  for (const [k, t] of Object.entries(opt.tensors)) tensors.set(`opt.${k}`, t);
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    epoch: state.epochsTrained,
    classes: state.classes,
    optimizer: opt.meta,
    ...(interrupted ? { interrupted } : {}),
  };
  try {
    await storage.writeFile(file, await encodeCheckpoint(tensors, meta));
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

/**
 * Loads `file` (written by {@link saveTrainingState}) into `state.model` and, unless `withOpt: false`, its
 * optimizer. Returns the epochs trained recorded in the file. `name` is the checkpoint's name for messages.
 */
export async function loadTrainingState(
  storage: LearnerStorage,
  file: string,
  name: string,
  state: Omit<TrainingState, 'epochsTrained'>,
  opts: { withOpt?: boolean; strict?: boolean } = {},
): Promise<{ epochsTrained: number | undefined }> {
  if (!(await storage.exists(file)))
    throw new CheckpointError(`no checkpoint "${name}" at ${file}: save it first with learn.save('${name}')`);
  const { tensors, meta } = decodeCheckpoint(await storage.readFile(file), file);
  try {
    const m = meta as Partial<CheckpointMeta>;
    if (m.format !== CHECKPOINT_FORMAT)
      throw new CheckpointError(
        `${file} is not a training checkpoint (format ${String(m.format)}); exports load with loadLearner`,
      );
    if (m.classes && m.classes.join('\u0000') !== state.classes.join('\u0000')) {
      throw new CheckpointError(
        `${file} was trained on classes [${m.classes.join(', ')}] but this Learner has [${state.classes.join(', ')}]`,
      );
    }
    const model = new Map<string, tf.Tensor>();
    const opt: Record<string, tf.Tensor> = {};
    for (const [k, t] of tensors) {
      if (k.startsWith('model.')) model.set(k.slice(6), t);
      else if (k.startsWith('opt.')) opt[k.slice(4)] = t;
    }
    try {
      state.model.loadStateDict(model, { strict: opts.strict ?? true, layout: 'native' });
      if ((opts.withOpt ?? true) && m.optimizer) state.opt.loadStateDict({ tensors: opt, meta: m.optimizer });
    } catch (e) {
      if (e instanceof LearnerError) throw e;
      throw new CheckpointError(`cannot load ${file} into this model: ${(e as Error).message}`);
    }
    return { epochsTrained: m.epoch };
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

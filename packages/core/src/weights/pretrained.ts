/**
 * Pretrained weights as the model zoo consumes them: a state dict plus its layout and provenance, and where
 * each architecture's canonical files live (platforms download them; core never touches the network or disk).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StateDictLayout } from '../nn/layout.js';
import type { StateDict } from '../nn/module.js';
import { WeightsFormatError } from './errors.js';
import { kerasBatchNormEps, kerasToStateDict, readLayersModel, type ShardLoader } from './layers-model.js';
import { readSafetensors } from './safetensors.js';
import { readTorchCheckpoint } from './torch.js';

/** A downloadable file: its name in the cache folder, canonical URL and (when known) sha256 (full or prefix). */
export interface PretrainedFile {
  name: string;
  url: string;
  /** Hex sha256 of the file, or a prefix of it (torchvision puts 8 hex digits in its file names). */
  sha256?: string;
}

/** Where an architecture's pretrained ImageNet weights come from. */
export type PretrainedSource =
  | {
      /** A single `torch.save` checkpoint (or a safetensors file) holding the state dict. */
      format: 'torch';
      file: PretrainedFile;
      /** Other file names accepted in the cache folder, e.g. timm's `model.safetensors`. */
      alternatives: string[];
      license: string;
    }
  | {
      /** A TF.js layers-model export: `model.json` plus the shards its manifest lists (relative to it). */
      format: 'layers-model';
      modelJson: PretrainedFile;
      /** sha256 of shard files by name, when pinned. */
      shardSha256: Record<string, string>;
      license: string;
    };

/** Weights ready to load into an architecture (see `applyPretrained` / `createModel(arch, { weights })`). */
export interface PretrainedWeights {
  /** Architecture the weights were made for. */
  readonly arch: string;
  /** Tensors by module state-dict key. */
  readonly stateDict: StateDict;
  /** Layout of the tensors: `torch` (PyTorch checkpoints) or `native` (TF.js / Keras exports). */
  readonly layout: StateDictLayout;
  /** Where they were read from (file path or URL), for messages. */
  readonly source: string;
  /** BatchNorm epsilons the weights were trained with, by module name (Keras exports record them). */
  readonly batchNormEps?: ReadonlyMap<string, number>;
  /** Releases the tensors (loading copies them into the model, so this is safe right after loading). */
  dispose(): void;
}

function makeWeights(
  arch: string,
  stateDict: StateDict,
  layout: StateDictLayout,
  source: string,
  batchNormEps?: Map<string, number>,
): PretrainedWeights {
  return {
    arch,
    stateDict,
    layout,
    source,
    ...(batchNormEps ? { batchNormEps } : {}),
    dispose: () => tf.dispose([...stateDict.values()]),
  };
}

/** Which single-file format `bytes` is: `torch` (zip), `safetensors`, or null. */
export function sniffWeightsFormat(bytes: Uint8Array): 'torch' | 'safetensors' | null {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return 'torch';
  if (bytes.length >= 9) {
    const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
    if (n > 1n && n <= BigInt(bytes.length - 8) && bytes[8] === 0x7b /* '{' */) return 'safetensors';
  }
  return null;
}

/**
 * Reads a single weights file (a `torch.save` zip or a safetensors file, told apart by content) holding a
 * PyTorch-layout state dict.
 */
export function pretrainedFromBytes(arch: string, bytes: Uint8Array, source: string): PretrainedWeights {
  const format = sniffWeightsFormat(bytes);
  if (format === 'torch') return makeWeights(arch, readTorchCheckpoint(bytes), 'torch', source);
  if (format === 'safetensors') return makeWeights(arch, readSafetensors(bytes), 'torch', source);
  throw new WeightsFormatError(
    'weights',
    `${source} is neither a torch.save zip checkpoint nor a safetensors file (${bytes.length} bytes)`,
  );
}

/**
 * Reads a TF.js layers-model export (model.json + shards) and maps its Keras layer names onto module names
 * (native layout), keeping the BatchNorm epsilons its topology records.
 */
export async function pretrainedFromLayersModel(
  arch: string,
  modelJson: string | Uint8Array | object,
  loadShard: ShardLoader,
  source: string,
): Promise<PretrainedWeights> {
  const lm = await readLayersModel(modelJson, loadShard);
  return makeWeights(arch, kerasToStateDict(lm.weights), 'native', source, kerasBatchNormEps(lm.layers));
}

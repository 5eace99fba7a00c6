/**
 * `weights`: pure-TypeScript readers for pretrained weights, working on `Uint8Array`s in Node and browsers:
 * safetensors, `torch.save` zip checkpoints (restricted unpickler), TF.js layers-model exports.
 */
export { readSafetensors, readSafetensorsHeader, writeSafetensors, SAFETENSORS_MAX_HEADER_BYTES } from './safetensors.js';
export type { SafetensorsHeader, SafetensorsEntry } from './safetensors.js';
export { readTorchCheckpoint, ALLOWED_TORCH_GLOBALS } from './torch.js';
export type { ReadTorchCheckpointOptions } from './torch.js';
export {
  readLayersModel,
  parseLayersModelJson,
  layersModelShardPaths,
  kerasLayers,
  kerasToStateDict,
  kerasWeightKey,
  kerasBatchNormEps,
} from './layers-model.js';
export type {
  LayersModelJson,
  LayersModelWeights,
  WeightsManifestGroup,
  WeightsManifestEntry,
  WeightQuantization,
  KerasLayerInfo,
  ShardLoader,
} from './layers-model.js';
export { WeightsFormatError, UnsafePickleError, WeightsCompatibilityError } from './errors.js';
export { pretrainedFromBytes, pretrainedFromLayersModel, sniffWeightsFormat } from './pretrained.js';
export type { PretrainedWeights, PretrainedSource, PretrainedFile } from './pretrained.js';
export { unpickle, PyDict, PyList, PyCallable } from './pickle.js';
export type { PyValue, UnpicklePolicy } from './pickle.js';

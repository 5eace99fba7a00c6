/**
 * `onnx`: inference from fastts ONNX exports through ONNX Runtime (`onnxruntime-node`, optional), with the choice
 * between it and the tfjs path.
 */
export { OnnxLearner, loadOnnxLearner } from './onnx-learner.js';
export type { LoadOnnxLearnerOptions, OnnxDevice, OnnxPredictBatchOptions } from './onnx-learner.js';
export {
  loadOnnxRuntime,
  onnxRuntimeAvailable,
  onnxRuntimeVersion,
  hasCudaProvider,
  OnnxRuntimeUnavailableError,
  ORT_MODULE,
  ORT_INSTALL_HINT,
} from './runtime.js';
export type { OrtModule, OrtSessionLike, OrtSessionOptions, OrtTensorLike } from './runtime.js';
export { chooseInferenceEngine, OnnxModelMissingError } from './engine.js';
export type { InferenceEngine } from './engine.js';
export { enableNativeConvolutions, NATIVE_CONV_ENV } from './native-convolutions.js';
export type { OrtConvolutions } from './native-convolutions.js';

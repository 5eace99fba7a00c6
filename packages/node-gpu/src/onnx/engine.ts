/** Choosing between ONNX Runtime and TensorFlow.js for inference. */
import { existsSync } from 'node:fs';
import { loadOnnxRuntime, onnxRuntimeAvailable } from './runtime.js';

/** Which engine predicts: `onnx` (ONNX Runtime on an `.onnx` export), `tfjs` (the export's weights on tfjs), or `auto`. */
export type InferenceEngine = 'auto' | 'onnx' | 'tfjs';

/** An engine choice that needs what is not there (no `.onnx` file). */
export class OnnxModelMissingError extends Error {
  override readonly name = 'OnnxModelMissingError';
}

/**
 * The engine to use: `auto` is `onnx` when `onnxFile` exists and `onnxruntime-node` loads, else `tfjs`; `onnx`
 * insists (rejects with an {@link OnnxModelMissingError} without the file, or `OnnxRuntimeUnavailableError`
 * without the runtime); `tfjs` is `tfjs`.
 * @param onnxFile the `.onnx` export that belongs to the model, if any
 */
export async function chooseInferenceEngine(engine: InferenceEngine, onnxFile: string | undefined): Promise<'onnx' | 'tfjs'> {
  const present = onnxFile !== undefined && existsSync(onnxFile);
  if (engine === 'tfjs') return 'tfjs';
  if (engine === 'onnx') {
    if (!present)
      throw new OnnxModelMissingError(
        `no ONNX export${onnxFile ? ` at ${onnxFile}` : ''}: write one with learn.export({ format: 'onnx' })`,
      );
    await loadOnnxRuntime();
    return 'onnx';
  }
  return present && (await onnxRuntimeAvailable()) ? 'onnx' : 'tfjs';
}

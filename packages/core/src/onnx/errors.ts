/** Errors of the ONNX export and reader. */

/**
 * A model that cannot be written as ONNX (a module the exporter does not know, shapes that do not fit) or a file
 * that is not a fastts ONNX export. The message names the module or file and what to do.
 */
export class OnnxExportError extends Error {
  override readonly name = 'OnnxExportError';
}

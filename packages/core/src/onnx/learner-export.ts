/** What `Learner.export` needs to write an ONNX file: the options it takes and the learner-to-ONNX step. */
import type { Preprocessing } from '../models/preprocessing.js';
import type { Module } from '../nn/module.js';
import { OnnxExportError } from './errors.js';
import { toOnnx, type OnnxExportInfo, type OnnxInputLayout } from './export.js';

/** File formats of `learn.export`. */
export type ExportFormat = 'safetensors' | 'onnx';

/** Options of `learn.export`. */
export interface LearnerExportOptions {
  /**
   * `safetensors` (default): weights + classes + preprocessing, reloaded by `loadLearner`; `onnx`: the network in
   * eval mode as an ONNX model with its preprocessing (see `toOnnx`), for ONNX Runtime or any ONNX consumer.
   */
  format?: ExportFormat;
  /** File name under the learner's `path` (default `export.safetensors` / `export.onnx`). */
  fname?: string;
  /** ONNX only: layout of the model's input (default `NCHW`). */
  inputLayout?: OnnxInputLayout;
}

/** The format and file name an export writes (`learn.export('name')` is `{ fname: 'name' }`). */
export function resolveExportOptions(options: string | LearnerExportOptions): { format: ExportFormat; fname: string } {
  const o = typeof options === 'string' ? { fname: options } : options;
  const format = o.format ?? (o.fname?.endsWith('.onnx') ? 'onnx' : 'safetensors');
  if (format !== 'safetensors' && format !== 'onnx') {
    throw new OnnxExportError(`export: unknown format '${String(format)}' (use 'safetensors' or 'onnx')`);
  }
  return { format, fname: o.fname ?? `export.${format}` };
}

/**
 * The ONNX bytes of a learner's model, with what its `exportInfo` records (a vision learner's architecture,
 * size, preprocessing, head and decode target).
 */
export async function learnerToOnnx(
  model: Module,
  classes: readonly string[],
  exportInfo: Record<string, unknown>,
  options: LearnerExportOptions = {},
): Promise<Uint8Array> {
  const info = exportInfo as Partial<OnnxExportInfo>;
  if (typeof info.size !== 'number' || !info.preprocessing) {
    throw new OnnxExportError(
      'ONNX export needs the input size and preprocessing of a vision learner: build the Learner with cnnLearner, or call toOnnx(model, info) yourself',
    );
  }
  return toOnnx(
    model,
    {
      classes,
      size: info.size,
      preprocessing: info.preprocessing as Preprocessing,
      ...(typeof info.arch === 'string' ? { arch: info.arch } : {}),
      ...(info.decodeTarget ? { decodeTarget: info.decodeTarget } : {}),
      ...(info.head ? { head: info.head } : {}),
      ...(typeof info.nf === 'number' ? { nf: info.nf } : {}),
    },
    options.inputLayout ? { inputLayout: options.inputLayout } : {},
  );
}

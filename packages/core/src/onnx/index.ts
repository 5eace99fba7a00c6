/**
 * `onnx`: fastts vision models as ONNX models (eval mode, preprocessing in the graph, metadata for running them
 * without fastts), and the reader of what such a file records.
 */
export { toOnnx, readOnnxInfo, ONNX_FORMAT, ONNX_OPSET } from './export.js';
export type { OnnxExportInfo, OnnxModelInfo, OnnxInputLayout, ToOnnxOptions } from './export.js';
export { resolveExportOptions, learnerToOnnx } from './learner-export.js';
export type { ExportFormat, LearnerExportOptions } from './learner-export.js';
export { encodeOnnxModel, decodeOnnxModel } from './proto.js';
export type {
  OnnxModel,
  OnnxGraph,
  OnnxNode,
  OnnxTensor,
  OnnxAttribute,
  OnnxValueInfo,
  OnnxDim,
  OnnxStringEntry,
} from './proto.js';
export { OnnxExportError } from './errors.js';
export { OnnxGraphBuilder, attr } from './graph-builder.js';
export type { OnnxValue, AttrValue } from './graph-builder.js';

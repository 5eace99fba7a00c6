/**
 * `interpret`: fast.ai's ClassificationInterpretation — top losses, confusion matrix, most confused — with SVG
 * renderings a person can read.
 */
export {
  ClassificationInterpretation,
  type InterpretationInput,
  type ConfusedPair,
  type TopLoss,
  type FromLearnerOptions,
  type PlotTopLossesOptions,
} from './interpretation.js';
export { confusionMatrixSvg, type ConfusionMatrixSvgOptions } from './confusion.js';
export { InterpretationError } from './errors.js';

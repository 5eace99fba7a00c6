/** Loading pretrained weights into zoo models. */
import { BatchNorm } from '../nn/batchnorm.js';
import type { LoadStateDictResult, StateDict } from '../nn/module.js';
import { StateDictError } from '../nn/errors.js';
import { WeightsCompatibilityError } from '../weights/errors.js';
import type { PretrainedWeights } from '../weights/pretrained.js';
import type { ArchModel } from './arch-model.js';

/**
 * Loads pretrained weights into a zoo model, strictly: every body key must be present with the right shape and
 * no unknown key may appear. The classifier's keys (`headKeyPrefixes`) are skipped when the model is a body or
 * when its classifier has another shape (e.g. `numClasses` 2 vs ImageNet's 1000); then the classifier keeps its
 * fresh initialization. BatchNorm epsilons recorded with the weights (Keras) must match the model's.
 * The caller still owns `weights` (dispose it when done).
 * @returns the classifier keys that were skipped (as `missingKeys` / `unexpectedKeys`)
 */
export function applyPretrained(model: ArchModel, weights: PretrainedWeights): LoadStateDictResult {
  if (weights.arch !== model.arch) {
    throw new WeightsCompatibilityError(
      `weights for '${weights.arch}' (${weights.source}) cannot be loaded into a '${model.arch}' model`,
    );
  }
  const isHead = (k: string): boolean => model.headKeyPrefixes.some((p) => k.startsWith(p));
  const headShapes = [...model.stateDictShapes({ layout: weights.layout })].filter(([k]) => isHead(k));
  const headFits =
    model.includeTop &&
    headShapes.every(([k, expected]) => {
      const t = weights.stateDict.get(k);
      return t !== undefined && t.shape.length === expected.length && t.shape.every((d, i) => d === expected[i]);
    });
  const sd: StateDict = headFits ? weights.stateDict : new Map([...weights.stateDict].filter(([k]) => !isHead(k)));
  checkBatchNormEps(model, weights);
  const result = model.loadStateDict(sd, { strict: false, layout: weights.layout });
  const missing = result.missingKeys.filter((k) => !(isHead(k) && !headFits));
  if (missing.length > 0 || result.unexpectedKeys.length > 0) {
    throw new StateDictError(missing, result.unexpectedKeys, [], `loading ${weights.source} into ${model.arch}`);
  }
  return {
    missingKeys: result.missingKeys,
    unexpectedKeys: [...weights.stateDict.keys()].filter((k) => isHead(k) && !headFits),
  };
}

function checkBatchNormEps(model: ArchModel, weights: PretrainedWeights): void {
  if (!weights.batchNormEps) return;
  const modules = new Map(model.namedModules());
  for (const [name, eps] of weights.batchNormEps) {
    const m = modules.get(name);
    if (m instanceof BatchNorm && Math.abs(m.eps - eps) > 1e-12 + 1e-6 * eps) {
      throw new WeightsCompatibilityError(
        `${weights.source}: BatchNorm '${name}' was trained with epsilon ${eps} but ${model.arch} uses ${m.eps}; ` +
          'these weights belong to a different variant of the architecture',
      );
    }
  }
}

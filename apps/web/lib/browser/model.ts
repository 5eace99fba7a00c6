/**
 * Loading a run's exported model (`model/<export>.safetensors`, written by `learn.export()`) in the browser.
 */
import { fetchBytes, fastts, topK, type BrowserModel, type FasttsWeb } from './engine';
import { runFileUrl } from '../urls';

/** Loads the export `file` (path inside the run dir, e.g. `model/export.safetensors`) of run `runId`. */
export async function loadRunModel(runId: string, file: string): Promise<BrowserModel> {
  const f = await fastts();
  const bytes = await fetchBytes(runFileUrl(runId, file), `the model of run ${runId}`);
  return modelFromExport(f, bytes, `${runId}/${file}`);
}

/** Builds a {@link BrowserModel} from the bytes of an export. */
export async function modelFromExport(f: FasttsWeb, bytes: Uint8Array, name: string): Promise<BrowserModel> {
  const storage = new f.MemoryStorage();
  await storage.writeFile(name, bytes);
  // core's loadLearner: an InferenceLearner with the classes, the decode target of training and predict(image).
  const learner = await f.loadLearner(name, { storage });
  const classes = learner.classes;
  return {
    classes,
    async predict(file, k) {
      // Decoded as the training data was (same canvas size), so predictions match the run's getPreds.
      const img = await f.decodeImage(file, learner.decodeTarget ? { target: learner.decodeTarget } : {});
      const r = await learner.predict(img);
      return topK(r.probs, classes, k);
    },
    dispose: () => learner.dispose(),
  };
}

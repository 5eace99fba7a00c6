/** The real implementations of the commands, wired to @fastts/node-gpu. */
import type { CommandHandlers } from '../program.js';
import { runDashboard } from './dashboard.js';
import { runDatasetsGet, runDatasetsList } from './datasets.js';
import { runExport } from './export.js';
import { runInterpret } from './interpret.js';
import { runLrFind } from './lr-find.js';
import { runModels } from './models.js';
import { runPredict } from './predict.js';
import { runShowBatch } from './show-batch.js';
import { runTrain } from './train.js';
import { runSubmitPredict, runSubmitTrain } from '../queue/submit.js';
import { runWorker } from '../queue/worker.js';

/** The handlers `fastts` runs. */
export const defaultHandlers: CommandHandlers = {
  train: runTrain,
  lrFind: runLrFind,
  predict: runPredict,
  interpret: runInterpret,
  showBatch: runShowBatch,
  export: runExport,
  models: runModels,
  dashboard: runDashboard,
  datasetsList: runDatasetsList,
  datasetsGet: runDatasetsGet,
  worker: runWorker,
  submitTrain: runSubmitTrain,
  submitPredict: runSubmitPredict,
};

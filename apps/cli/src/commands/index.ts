/** The real implementations of the commands, wired to @fastts/node-gpu. */
import type { CommandHandlers } from '../program.js';
import { CliError } from '../errors.js';
import { runModels } from './models.js';
import { runTrain } from './train.js';

const notYet = (name: string) => async () => {
  throw new CliError(`'fastts ${name}' is not available in this build yet`, { hint: 'update fastts' });
};

/** The handlers `fastts` runs. */
export const defaultHandlers: CommandHandlers = {
  train: runTrain,
  lrFind: notYet('lr-find'),
  predict: notYet('predict'),
  interpret: notYet('interpret'),
  showBatch: notYet('show-batch'),
  export: notYet('export'),
  models: runModels,
};

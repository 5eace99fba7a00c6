/**
 * Loggers writing the training history through the platform's storage (fast.ai `CSVLogger`, plus JSON lines).
 */
import type { Callback } from './callback.js';
import { formatTime } from './format.js';
import type { Learner } from './learner.js';
import { formatEpochCells } from './progress.js';
import { decodeUtf8, encodeUtf8 } from '../weights/text.js';
import { type LearnerStorage, joinPath } from './storage.js';
import { LearnerConfigError } from './errors.js';

function storageOf(learn: Learner, who: string): LearnerStorage {
  if (!learn.storage) {
    throw new LearnerConfigError(
      `${who} needs storage: create the Learner with { storage } (e.g. the Node platform's nodeStorage())`,
    );
  }
  return learn.storage;
}

/** Writes (whole file, atomically) or appends text, whichever the storage allows. */
class TextFile {
  private content = '';
  constructor(
    private readonly storage: LearnerStorage,
    readonly path: string,
  ) {}
  async start(initial: string, append: boolean): Promise<void> {
    if (append && (await this.storage.exists(this.path))) {
      this.content = decodeUtf8(await this.storage.readFile(this.path));
      if (initial && this.content.length === 0) await this.add(initial);
      return;
    }
    this.content = initial;
    await this.storage.writeFile(this.path, encodeUtf8(initial));
  }
  async add(text: string): Promise<void> {
    this.content += text;
    if (this.storage.appendFile) await this.storage.appendFile(this.path, encodeUtf8(text));
    else await this.storage.writeFile(this.path, encodeUtf8(this.content));
  }
}

/**
 * Writes the epoch table to `<learn.path>/<filename>` as CSV (fast.ai `CSVLogger`: header
 * `epoch,train_loss,valid_loss,<metrics>,time`, one line per epoch, 6 decimals). `append` keeps earlier fits' rows.
 */
export class CSVLogger implements Callback {
  readonly name = 'CSVLogger';
  readonly order = 60;
  private file: TextFile | undefined;
  constructor(
    readonly filename = 'history.csv',
    readonly append = false,
  ) {}

  async beforeFit(learn: Learner): Promise<void> {
    this.file = new TextFile(storageOf(learn, 'CSVLogger'), joinPath(learn.path, this.filename));
    await this.file.start(`${learn.recorder.names.join(',')}\n`, this.append);
  }

  async afterEpoch(learn: Learner): Promise<void> {
    const row = learn.recorder.lastRow;
    if (!row || !this.file) return;
    await this.file.add(`${formatEpochCells(learn.recorder.names, row).join(',')}\n`);
  }
}

/**
 * Writes JSON lines to `<learn.path>/<filename>`: `{"type":"epoch",...}` per epoch (raw numbers), and with
 * `batches` also `{"type":"batch","epoch","iter","loss","smoothLoss","lrs","mom"}` per training batch — what a
 * dashboard needs for live curves.
 */
export class JSONLLogger implements Callback {
  readonly name = 'JSONLLogger';
  readonly order = 60;
  private file: TextFile | undefined;
  constructor(
    readonly filename = 'history.jsonl',
    readonly opts: { batches?: boolean; append?: boolean } = {},
  ) {}

  async beforeFit(learn: Learner): Promise<void> {
    this.file = new TextFile(storageOf(learn, 'JSONLLogger'), joinPath(learn.path, this.filename));
    await this.file.start('', this.opts.append ?? false);
    await this.file.add(
      `${JSON.stringify({ type: 'begin', names: learn.recorder.names, nEpoch: learn.nEpoch, time: new Date().toISOString() })}\n`,
    );
  }

  async afterBatch(learn: Learner): Promise<void> {
    if (!this.opts.batches || !learn.training || !this.file) return;
    const r = learn.recorder;
    const line = {
      type: 'batch',
      epoch: learn.epoch,
      iter: learn.iter,
      trainIter: learn.trainIter,
      loss: r.losses[r.losses.length - 1],
      smoothLoss: r.smoothLosses[r.smoothLosses.length - 1],
      lrs: r.lrs[r.lrs.length - 1],
      mom: r.moms[r.moms.length - 1],
    };
    await this.file.add(`${JSON.stringify(line)}\n`);
  }

  async afterEpoch(learn: Learner): Promise<void> {
    const row = learn.recorder.lastRow;
    if (!row || !this.file) return;
    const line = { type: 'epoch', ...row, time: formatTime(row.seconds) };
    await this.file.add(`${JSON.stringify(line)}\n`);
  }
}

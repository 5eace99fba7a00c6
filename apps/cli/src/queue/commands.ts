/**
 * The commander definitions of the queue commands: `fastts worker`, `fastts submit train`, `fastts submit predict`.
 * `program.ts` hands in its shared helpers (output, errors, Ctrl-C) so that these behave like every other command.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseFraction, parseLr, parseNonNegativeInt, parsePositiveInt } from '../args.js';
import type { CommandContext } from '../context.js';
import type { SubmitPredictOptions, SubmitTrainOptions, WorkerOptions } from '../options.js';

/** The implementations of the queue commands. */
export interface QueueHandlers {
  worker(options: WorkerOptions, ctx: CommandContext): Promise<void>;
  submitTrain(dataDir: string, options: SubmitTrainOptions, ctx: CommandContext): Promise<void>;
  submitPredict(model: string, imagesDir: string, options: SubmitPredictOptions, ctx: CommandContext): Promise<void>;
}

/** What `program.ts` lends the queue commands. */
export interface QueueCommandDeps {
  /** Commander settings every command shares. */
  configure(cmd: Command): Command;
  /** Runs an action with the command's context (reporter, Ctrl-C handling). */
  run(options: { json?: boolean }, cmd: Command, fn: (ctx: CommandContext) => Promise<void>): Promise<void>;
  addBackendOptions(cmd: Command): Command;
  examples(lines: string[]): string;
}

/** A parser of comma-separated values, each checked by `parse` (`--seed 1,2,3`). */
export function listOf<T>(parse: (text: string) => T): (text: string) => T[] {
  return (text: string) => {
    const parts = text.split(',').map((s) => s.trim());
    if (parts.some((p) => p === ''))
      throw new InvalidArgumentError(`'${text}' has an empty value; separate values with commas, e.g. 1,2,3.`);
    return parts.map(parse);
  };
}

const checkedLr = (t: string): string => {
  parseLr(t);
  return t;
};

/** An option taking comma-separated values (a sweep), with its default shown as typed. */
function listOption<T>(flags: string, description: string, parse: (text: string) => T, fallback?: string): Option {
  const o = new Option(flags, `${description}; a comma list sweeps`).argParser(listOf(parse));
  return fallback === undefined ? o : o.default(listOf(parse)(fallback), fallback);
}

function redisOption(): Option {
  return new Option(
    '--redis <url>',
    'the Redis server: redis://[:password@]host:port[/db], rediss:// for TLS (prefer the variable: command lines are visible to others)',
  )
    .env('FASTTS_REDIS_URL')
    .makeOptionMandatory();
}

/** Adds `worker` and `submit train|predict` to `program`. */
export function addQueueCommands(program: Command, handlers: QueueHandlers, deps: QueueCommandDeps): void {
  const { configure, run, examples } = deps;

  const worker = configure(program.command('worker'))
    .summary('take training and prediction jobs from a Redis queue until stopped')
    .description(
      'A long-running worker of the fastts job queue (BullMQ on Redis). Training jobs run fastts train in a child ' +
        'process, resuming their run from its last epoch checkpoint when an earlier attempt died; prediction shards ' +
        'run in this process. Every worker must see the data, runs and output folders at the same paths (a shared ' +
        'folder). SIGTERM or Ctrl-C: stop taking jobs, checkpoint training jobs and put them back in the queue, ' +
        'finish prediction shards, then exit 0 (a second signal quits at once). A worker killed without a word ' +
        'loses its job to another worker after --lock-duration. Redis unreachable at start: exit 1; Redis lost ' +
        'later: the worker reconnects.',
    )
    .addOption(redisOption())
    .option('--concurrency <n>', 'jobs run at the same time', parsePositiveInt, 1);
  deps
    .addBackendOptions(worker)
    .option(
      '--lock-duration <ms>',
      "how long a job's lock lasts unrenewed: a dead worker's job is retried after about this long",
      parsePositiveInt,
      30_000,
    )
    .option('--stalled-interval <ms>', 'how often to check for jobs whose worker died', parsePositiveInt, 30_000)
    .addHelpText(
      'after',
      examples([
        'FASTTS_REDIS_URL=redis://:secret@queue.local:6379 fastts worker',
        'fastts worker --redis redis://127.0.0.1:6379 --concurrency 2 --threads 4',
        'fastts worker --redis rediss://:secret@redis.example.com:6380 --backend cuda',
      ]),
    )
    .action(async (options: WorkerOptions, cmd: Command) => run(options, cmd, (ctx) => handlers.worker(options, ctx)));

  const submit = configure(program.command('submit'))
    .summary('put training runs (or sweeps) and batch predictions on the queue for fastts workers')
    .addHelpText(
      'after',
      examples([
        'fastts submit train /shared/data/pets --arch resnet34,resnet50 --seed 1,2 --runs /shared/runs',
        'fastts submit predict /shared/runs/pets /shared/photos --shard-size 500 --wait',
      ]),
    );

  const train = configure(submit.command('train'))
    .summary('enqueue fastts train runs: one job, or one per combination of comma-separated values (a sweep)')
    .description(
      "Enqueue a training run with fastts train's options; prints the job id (and its run folder). Comma-separated " +
        'values of --arch, --size, --lr, --epochs, --unfreeze-epochs and --seed make a sweep: one job per combination, ' +
        'grouped by a sweep id. Each job writes the run folder <runs>/<job id>, on a folder the workers share; a job ' +
        'retried after its worker died resumes that run from its last checkpoint.',
    )
    .argument('<dataDir>', 'the data folder, as the workers see it')
    .addOption(redisOption())
    .addOption(listOption('--arch <names>', "architecture(s) (see 'fastts models')", (v) => v, 'resnet34'))
    .addOption(listOption('--size <px>', 'image size(s)', parsePositiveInt, '224'))
    .addOption(listOption('--lr <n|lo:hi>', 'max learning rate(s) of the frozen phase (default fast.ai 3e-3)', checkedLr))
    .addOption(listOption('--epochs <n>', 'epochs with the body frozen', parseNonNegativeInt, '1'))
    .addOption(listOption('--unfreeze-epochs <n>', 'epochs with the whole network unfrozen', parseNonNegativeInt, '0'))
    .addOption(listOption('--seed <n>', 'seed(s) (default: random, recorded)', parseNonNegativeInt))
    .addOption(
      new Option('--unfreeze-lr <lo:hi>', 'learning rates of the unfrozen phase')
        .argParser(parseLr)
        .default({ lo: 1e-5, hi: 3e-4 }, '1e-5:3e-4'),
    )
    .option('--train <dir>', 'training folder under the data folder', 'train')
    .option('--valid <dir>', 'validation folder under the data folder', 'valid')
    .option('--valid-pct <p>', 'hold out this fraction of the training images instead', parseFraction)
    .option('--test <dir>', 'unlabelled test folder under the data folder (used when it exists)', 'test')
    .option('--bs <n>', 'batch size', parsePositiveInt, 64)
    .option('--no-pretrained', 'start from random weights')
    .option('--no-augment', 'turn off training augmentation')
    .option('--rows <n>', 'rows of the batch.png grid', parsePositiveInt, 3)
    .option('--top-losses <k>', 'images in top_losses.png', parsePositiveInt, 9)
    .option('--runs <dir>', 'folder of the run folders, shared with the workers (each job writes <runs>/<job id>)', 'runs')
    .option('--out <runDir>', 'the run folder of a single job (instead of <runs>/<job id>)')
    .option('--priority <n>', 'job priority: 1 is the highest (default: none, first in first out)', parsePositiveInt)
    .option('--attempts <n>', 'tries before a job fails for good (a dead worker does not use one up)', parsePositiveInt, 3)
    .option('--wait', "follow the jobs' progress until they end (exit 1 when one failed)")
    .option('--json', 'print one JSON object: the job ids, run folders (and results with --wait)')
    .addHelpText(
      'after',
      examples([
        'fastts submit train /shared/data/doraemon-walle --arch resnet34 --epochs 1 --unfreeze-epochs 3 --runs /shared/runs',
        'fastts submit train /shared/data/pets --arch resnet34,resnet50 --lr 1e-3,3e-3 --seed 1,2 --runs /shared/runs',
        'fastts submit train /shared/data/pets --out /shared/runs/pets --wait',
      ]),
    )
    .action(async (dataDir: string, options: SubmitTrainOptions, cmd: Command) =>
      run(options, cmd, (ctx) => handlers.submitTrain(dataDir, options, ctx)),
    );
  void train;

  configure(submit.command('predict'))
    .summary('enqueue a batch prediction: one job per shard of images, merged into one predictions.csv')
    .description(
      'Classify every image under a folder (recursively) with a trained run, as a BullMQ flow: one child job per ' +
        'shard of --shard-size images, each writing its own CSV, and a parent that merges them, in order, into ' +
        'predictions.csv (file relative to the images folder, label, probability) once all are done. Outputs are ' +
        'written atomically; a retried shard overwrites its own file, so every image appears exactly once.',
    )
    .argument('<run>', 'a run folder (or exported model), as the workers see it')
    .argument('<imagesDir>', 'a folder of images, as the workers see it')
    .addOption(redisOption())
    .option('--shard-size <n>', 'images per shard job', parsePositiveInt, 200)
    .option('--out <dir>', 'folder of shards/ and predictions.csv (default <run>/predictions/<flow id>)')
    .option('--attempts <n>', 'tries of each job before it fails for good', parsePositiveInt, 3)
    .option('--wait', 'follow the flow until predictions.csv is written')
    .option('--json', 'print one JSON object: the flow id, shards and output file')
    .addHelpText(
      'after',
      examples([
        'fastts submit predict /shared/runs/pets /shared/photos --shard-size 500',
        'fastts submit predict /shared/runs/pets /shared/photos --out /shared/out/photos --wait',
      ]),
    )
    .action(async (model: string, imagesDir: string, options: SubmitPredictOptions, cmd: Command) =>
      run(options, cmd, (ctx) => handlers.submitPredict(model, imagesDir, options, ctx)),
    );
}

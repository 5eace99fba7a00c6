/**
 * The `fastts` command line: commander definitions of every command and flag, help with examples, and `main`,
 * which runs one command line and returns the exit code (0 ok, 1 runtime failure, 2 usage error, 130 Ctrl-C).
 */
import { Command, CommanderError, Option } from 'commander';
import { parseLr, parseNonNegativeInt, parsePositiveInt, parsePositiveNumber, type LrSpec } from './args.js';
import type { CommandContext } from './context.js';
import { ExitCode, formatError, toCliError } from './errors.js';
import { configure as configurePlatform } from '@fastts/node-gpu';
import { exitCodeFor, handleInterrupts } from '@fastts/node-gpu/platform';
import type {
  DashboardOptions,
  CommonOptions,
  ExportOptions,
  InterpretOptions,
  LrFindOptions,
  ModelsOptions,
  PredictOptions,
  ShowBatchOptions,
  TrainOptions,
} from './options.js';
import { colorEnabled, processIo, Reporter, type CliIo } from './output.js';
import { addBackendOptions, addDataOptions, addJson, configure, examples, GLOBAL_HELP } from './program-options.js';
import { addQueueCommands, type QueueHandlers } from './queue/commands.js';
import { cliVersion } from './version.js';

/** The implementations behind the commands (replaceable in tests of the argument parsing). */
export interface CommandHandlers extends QueueHandlers {
  train(dataDir: string | undefined, options: TrainOptions, ctx: CommandContext): Promise<void>;
  lrFind(dataDir: string, options: LrFindOptions, ctx: CommandContext): Promise<void>;
  predict(model: string, inputs: string[], options: PredictOptions, ctx: CommandContext): Promise<void>;
  interpret(runDir: string, options: InterpretOptions, ctx: CommandContext): Promise<void>;
  showBatch(dataDir: string, options: ShowBatchOptions, ctx: CommandContext): Promise<void>;
  export(runDir: string, options: ExportOptions, ctx: CommandContext): Promise<void>;
  models(options: ModelsOptions, ctx: CommandContext): Promise<void>;
  dashboard(options: DashboardOptions, ctx: CommandContext): Promise<void>;
  datasetsList(options: CommonOptions, ctx: CommandContext): Promise<void>;
  datasetsGet(name: string, options: CommonOptions, ctx: CommandContext): Promise<void>;
}

/** Default learning rates for the unfrozen phase (fast.ai's tutorial: `slice(1e-5, 3e-4)`). */
export const DEFAULT_UNFREEZE_LR: LrSpec = { lo: 1e-5, hi: 3e-4 };

/** What the first Ctrl-C (or SIGTERM) says, for the commands that do not train. */
const STOPPING: Record<string, string> = {
  dashboard: 'stopping the dashboard...',
  worker: 'taking no more jobs; checkpointing training jobs, finishing prediction shards... (again to quit at once)',
};

/** Mutable state shared between the action wrappers and {@link main}. */
interface RunState {
  ctx?: CommandContext;
}

/** Builds the `fastts` program. `handlers` run the commands; `state` receives the running command's context. */
export function createProgram(io: CliIo, handlers: CommandHandlers, state: RunState = {}): Command {
  const program = configure(new Command('fastts'), io)
    .description('The fast.ai image-classification workflow on TensorFlow.js: train, inspect and use image classifiers.')
    .version(cliVersion(), '-V, --version', 'print the version')
    .option('--verbose', 'print stack traces and extra diagnostics')
    .helpOption('-h, --help', 'show help (every command has its own, with examples)')
    .addHelpText('after', GLOBAL_HELP)
    .showSuggestionAfterError(true);

  const withContext = async (options: { json?: boolean }, cmd: Command, run: (ctx: CommandContext) => Promise<void>) => {
    const all = cmd.optsWithGlobals() as { json?: boolean; verbose?: boolean };
    const reporter = new Reporter(io, { json: all.json ?? options.json, verbose: all.verbose });
    // The CLI has its own output (tables on the human channel, bars on stderr), Ctrl-C handling and backend choice:
    // the Node platform's defaults for library users step aside.
    configurePlatform({
      reporter: () => undefined,
      interrupts: false,
      log: (line) => reporter.log(line),
      parallel: 'auto',
      threads: undefined,
    });
    const interrupts = handleInterrupts({
      onFirst: (sig) =>
        reporter.log(
          `\n${sig === 'SIGINT' ? 'Ctrl-C' : sig}: ${STOPPING[cmd.name()] ?? 'stopping at the end of the current batch... (Ctrl-C again to quit at once)'}`,
        ),
    });
    const ctx: CommandContext = { io, reporter, interrupts };
    state.ctx = ctx;
    try {
      await run(ctx);
    } finally {
      interrupts.dispose();
    }
  };

  // train
  const train = configure(program.command('train'), io)
    .summary('fine-tune an ImageNet-pretrained CNN on a folder of labelled images')
    .description(
      'Fine-tune a pretrained CNN the fast.ai way: train the head with the body frozen (one-cycle, --epochs), then ' +
        'optionally unfreeze and train everything with discriminative learning rates (--unfreeze-epochs). ' +
        'The data folder holds train/<label>/*.jpg, valid/<label>/*.jpg (or use --valid-pct) and optionally test/*.jpg. ' +
        'Writes a run folder (default runs/<timestamp>-<arch>): config.json, metrics.jsonl, model/, batch.png, ' +
        'confusion_matrix.png, top_losses.png and test_predictions.csv. Ctrl-C stops at the end of the current batch ' +
        'and writes a checkpoint that --resume continues from.',
    )
    .argument('[dataDir]', "the data folder, or a data set name from 'fastts datasets list' (not needed with --resume)")
    .option('--arch <name>', "architecture (see 'fastts models')", 'resnet34')
    .option('--epochs <n>', 'epochs with the body frozen', parseNonNegativeInt, 1)
    .option('--lr <n|lo:hi>', 'max learning rate of the frozen phase: a number, lo:hi or :hi (default fast.ai 3e-3)', parseLr)
    .option('--unfreeze-epochs <n>', 'epochs with the whole network unfrozen, after the frozen ones', parseNonNegativeInt, 0)
    .addOption(
      new Option('--unfreeze-lr <lo:hi>', 'learning rates of the unfrozen phase (first:last layer group)')
        .argParser(parseLr)
        .default(DEFAULT_UNFREEZE_LR, '1e-5:3e-4'),
    );
  addDataOptions(train);
  addBackendOptions(train);
  train
    .addOption(
      new Option('--parallel <mode>', 'train data-parallel on worker threads, one per --threads (auto: with wasm and 2+ threads)')
        .choices(['auto', 'on', 'off'])
        .default('auto')
        .env('FASTTS_PARALLEL'),
    )
    .option('--no-pretrained', 'start from random weights instead of ImageNet weights')
    .option('--no-augment', "turn off training augmentation (fast.ai's get_transforms())")
    .option('--rows <n>', 'rows of the batch.png grid', parsePositiveInt, 3)
    .option('--top-losses <k>', 'images in top_losses.png', parsePositiveInt, 9)
    .option('--out <runDir>', 'run folder to write (default runs/<timestamp>-<arch>)')
    .option('--resume <runDir>', 'continue an interrupted run from its checkpoint (uses its config.json)')
    // A queue worker resuming a job whose previous worker died elsewhere: the queue, not the pid, knows it is dead.
    .addOption(new Option('--take-over', 'with --resume: resume even when status.json says running').hideHelp());
  addJson(train, 'print one JSON object with the results on stdout (progress goes to stderr)')
    .addHelpText(
      'after',
      examples([
        'fastts train data/doraemon-walle --arch resnet34',
        'fastts train data/pets --arch resnet50 --size 224 --bs 32 --epochs 2 --unfreeze-epochs 3 --unfreeze-lr 1e-5:3e-4',
        'fastts train data/flowers --valid-pct 0.2 --seed 42 --out runs/flowers --json > result.json',
        'fastts train --resume runs/flowers',
      ]),
    )
    .action(async (dataDir: string | undefined, options: TrainOptions, cmd: Command) =>
      withContext(options, cmd, (ctx) =>
        handlers.train(dataDir, { ...options, testRequired: cmd.getOptionValueSource('test') === 'cli' }, ctx),
      ),
    );

  // lr-find
  const lrFind = configure(program.command('lr-find'), io)
    .summary('sweep the learning rate and suggest one')
    .description(
      "fast.ai's learning-rate finder: trains the frozen model for a few batches while the learning rate grows " +
        'exponentially, stops when the loss diverges, restores the weights, prints the suggested learning rates and ' +
        'plots loss against learning rate.',
    )
    .argument('<dataDir>', 'the data folder')
    .option('--arch <name>', "architecture (see 'fastts models')", 'resnet34');
  addDataOptions(lrFind);
  addBackendOptions(lrFind);
  lrFind
    .option('--no-pretrained', 'start from random weights instead of ImageNet weights')
    .option('--no-augment', 'turn off training augmentation')
    .option('--start-lr <lr>', 'first learning rate of the sweep', parsePositiveNumber, 1e-7)
    .option('--end-lr <lr>', 'last learning rate of the sweep', parsePositiveNumber, 10)
    .option('--num-it <n>', 'number of batches in the sweep', parsePositiveInt, 100)
    .option('--out <file>', 'where to write the plot', 'lr_find.png');
  addJson(lrFind)
    .addHelpText(
      'after',
      examples([
        'fastts lr-find data/doraemon-walle --arch resnet34',
        'fastts lr-find data/pets --arch mobilenet_v1_0.25_224 --size 128 --num-it 50 --out plots/lr.png',
        'fastts lr-find data/pets --json | jq .suggestions',
      ]),
    )
    .action(async (dataDir: string, options: LrFindOptions, cmd: Command) =>
      withContext(options, cmd, (ctx) => handlers.lrFind(dataDir, options, ctx)),
    );

  // predict
  const predict = configure(program.command('predict'), io)
    .summary('classify images with a trained model')
    .description(
      'Classify images with an exported model (a run folder or its model/ folder). Folders are searched for images ' +
        'recursively. Prints one line per image: file, label, probability (top k with --top).',
    )
    .argument('<model>', 'a run folder (runs/...) or an exported model folder')
    .argument('<inputs...>', 'image files or folders of images')
    .addOption(new Option('--json', 'print one JSON object on stdout').conflicts('csv'))
    .addOption(new Option('--csv', 'print CSV: file,label,probability[,label_2,probability_2,...]').conflicts('json'))
    .option('--tta', 'test-time augmentation: average the predictions over augmented views')
    .option('--top <k>', 'print the k most likely labels per image', parsePositiveInt, 1)
    .option('--bs <n>', 'images per batch of the --tta pass', parsePositiveInt, 16)
    .addOption(
      new Option(
        '--engine <name>',
        'auto: ONNX Runtime when the model has an export.onnx and onnxruntime-node is installed, else tfjs',
      )
        .choices(['auto', 'onnx', 'tfjs'])
        .default('auto'),
    );
  addBackendOptions(predict)
    .addHelpText(
      'after',
      examples([
        'fastts predict runs/20250101-120000-resnet34 photo.jpg',
        'fastts predict runs/flowers/model photos/ --csv > predictions.csv',
        'fastts predict runs/flowers photos/ --top 3 --json',
        'fastts predict runs/flowers photo.jpg --tta',
        'fastts predict runs/flowers photos/ --engine onnx',
      ]),
    )
    .action(async (model: string, inputs: string[], options: PredictOptions, cmd: Command) =>
      withContext(options, cmd, (ctx) => handlers.predict(model, inputs, options, ctx)),
    );

  // interpret
  const interpret = configure(program.command('interpret'), io)
    .summary('see what a trained model gets wrong')
    .description(
      "Re-render a run's confusion_matrix.png and top_losses.png from its exported model and validation set, and " +
        'print the most confused class pairs (actual, predicted, count).',
    )
    .argument('<runDir>', 'a run folder written by fastts train')
    .option('--top-losses <k>', 'images in top_losses.png', parsePositiveInt, 9)
    .option('--min-val <n>', 'only list class pairs confused at least this often', parsePositiveInt, 1)
    .option('--data <dataDir>', "the data folder, when it moved since training (default: the run's config.json)")
    .option('--out <dir>', 'where to write the plots (default: the run folder)');
  addBackendOptions(interpret);
  addJson(interpret)
    .addHelpText(
      'after',
      examples([
        'fastts interpret runs/20250101-120000-resnet34',
        'fastts interpret runs/flowers --top-losses 16 --out plots/',
        'fastts interpret runs/flowers --data /mnt/data/flowers --json',
      ]),
    )
    .action(async (runDir: string, options: InterpretOptions, cmd: Command) =>
      withContext(options, cmd, (ctx) => handlers.interpret(runDir, options, ctx)),
    );

  // show-batch
  const showBatch = configure(program.command('show-batch'), io)
    .summary('render a grid of images with their labels, as the model will see them')
    .argument('<dataDir>', 'the data folder')
    .option('--rows <n>', 'rows (and columns) of the grid', parsePositiveInt, 3)
    .option('--out <file>', 'where to write the PNG', 'batch.png')
    .addOption(
      new Option('--ds <set>', 'which images: the (augmented) training set or the validation set')
        .choices(['train', 'valid'])
        .default('train'),
    )
    .option('--no-augment', 'show the training images without augmentation');
  addDataOptions(showBatch);
  addJson(showBatch)
    .addHelpText(
      'after',
      examples([
        'fastts show-batch data/doraemon-walle',
        'fastts show-batch data/pets --rows 4 --size 160 --out pets-batch.png',
        'fastts show-batch data/pets --ds valid --out valid.png',
      ]),
    )
    .action(async (dataDir: string, options: ShowBatchOptions, cmd: Command) =>
      withContext(options, cmd, (ctx) => handlers.showBatch(dataDir, options, ctx)),
    );

  // export
  const exportCmd = configure(program.command('export'), io)
    .summary("write a run's model as one self-contained file")
    .description(
      "Write the run's exported model (weights + classes + preprocessing) as one file, for serving or copying; " +
        "'fastts predict' accepts the file as well as the run folder. From an interrupted run, exports its checkpoint.",
    )
    .argument('<runDir>', 'a run folder written by fastts train')
    .option(
      '--out <file>',
      'the file to write (default ./<run name>.safetensors; with --format onnx, <runDir>/model/export.onnx)',
    )
    .addOption(
      new Option(
        '--format <format>',
        'safetensors (weights, for fastts) or onnx (the network with its preprocessing, for ONNX Runtime)',
      )
        .choices(['safetensors', 'onnx'])
        .default('safetensors'),
    );
  addJson(exportCmd)
    .addHelpText(
      'after',
      examples([
        'fastts export runs/20250101-120000-resnet34',
        'fastts export runs/flowers --out /srv/models/flowers.safetensors',
        'fastts export runs/flowers --format onnx',
      ]),
    )
    .action(async (runDir: string, options: ExportOptions, cmd: Command) =>
      withContext(options, cmd, (ctx) => handlers.export(runDir, options, ctx)),
    );

  // models
  const models = configure(program.command('models'), io)
    .summary('list the known architectures and which weights are in the cache')
    .description(
      'List the architectures fastts knows, their preprocessing, and whether their ImageNet weights are in the cache ($FASTTS_HOME/models/<arch>/).',
    );
  addJson(models)
    .addHelpText('after', examples(['fastts models', 'FASTTS_HOME=/data/fastts fastts models --json']))
    .action(async (options: ModelsOptions, cmd: Command) => withContext(options, cmd, (ctx) => handlers.models(options, ctx)));

  // dashboard
  const dashboard = configure(program.command('dashboard'), io)
    .summary('serve the web dashboard over a runs folder')
    .description(
      'Serve the Next.js dashboard (runs list, live curves, confusion matrix, top losses, predict and train in the ' +
        'browser) over the run folders fastts train writes, until Ctrl-C. It listens on 127.0.0.1 unless --host says ' +
        'otherwise, and asks for an access token: open the tokened URL it prints (see apps/web/README.md).',
    )
    .option('--runs <dir>', 'the runs folder', 'runs')
    .option('--port <n>', 'TCP port (0 picks a free one)', parseNonNegativeInt, 3000)
    .option('--host <addr>', 'interface to listen on (0.0.0.0 for every interface: then a token is required)', '127.0.0.1')
    .option('--home <dir>', 'FASTTS_HOME whose weight cache the in-browser training reads (default $FASTTS_HOME)')
    .option('--token <token>', 'the access token (default $FASTTS_DASHBOARD_TOKEN, else a random one)')
    .option('--no-auth', 'no token (only on a loopback address)')
    .addOption(
      new Option('--redis <url>', 'the Redis of the fastts workers: adds the Queue page (jobs, submitting training)').env(
        'FASTTS_REDIS_URL',
      ),
    )
    .option('--data-root <dir>', 'the folder whose sub-folders the Queue page may submit as training data sets');
  addJson(dashboard)
    .addHelpText(
      'after',
      examples([
        'fastts dashboard',
        'fastts dashboard --runs /srv/runs --port 8080 --host 0.0.0.0',
        'FASTTS_REDIS_URL=redis://:secret@queue:6379 fastts dashboard --runs /shared/runs --data-root /shared/data',
      ]),
    )
    .action(async (options: DashboardOptions, cmd: Command) =>
      withContext(options, cmd, (ctx) => handlers.dashboard(options, ctx)),
    );
  // datasets list | get
  const datasets = configure(program.command('datasets'), io)
    .summary("list and download data sets (fast.ai's untar_data)")
    .description(
      "The registered data sets: fast.ai's image sets (URLs.PETS, URLs.IMAGENETTE_160, ...) and the tutorial's " +
        'doraemon-walle. Downloaded once (verified, resumable) into $FASTTS_HOME/data/<name>/; FASTTS_MIRROR ' +
        'fetches them from a mirror. fastts train accepts a name as well as a folder.',
    )
    .addHelpText(
      'after',
      examples(['fastts datasets list', 'fastts datasets get doraemon-walle', 'fastts train doraemon-walle --arch resnet34']),
    );
  addJson(configure(datasets.command('list'), io).summary('list the data sets, their size and whether they are in the cache'))
    .addHelpText('after', examples(['fastts datasets list', 'FASTTS_HOME=/data/fastts fastts datasets list --json']))
    .action(async (options: CommonOptions, cmd: Command) =>
      withContext(options, cmd, (ctx) => handlers.datasetsList(options, ctx)),
    );
  addJson(
    configure(datasets.command('get'), io)
      .summary('download and extract a data set (if not cached) and print its folder')
      .argument('<name>', "a name from 'fastts datasets list' (or fast.ai's, e.g. IMAGENETTE_160)"),
  )
    .addHelpText(
      'after',
      examples([
        'fastts datasets get doraemon-walle',
        'fastts datasets get IMAGENETTE_160',
        'FASTTS_MIRROR=http://mirror.local/fastts fastts datasets get mnist_sample',
      ]),
    )
    .action(async (name: string, options: CommonOptions, cmd: Command) =>
      withContext(options, cmd, (ctx) => handlers.datasetsGet(name, options, ctx)),
    );

  addQueueCommands(program, handlers, {
    configure: (cmd) => configure(cmd, io),
    run: withContext,
    addBackendOptions,
    examples,
  });
  return program;
}

/**
 * Runs one `fastts` command line (`argv` without the node and script paths) and returns its exit code. Errors are
 * printed as one line on stderr (stack traces with `--verbose`); under `--json`, a failure also writes
 * `{"error": {"message", "exitCode", "type"}}` as stdout's one JSON object.
 */
export async function main(argv: readonly string[], io: CliIo, handlers: CommandHandlers): Promise<number> {
  const state: RunState = {};
  const program = createProgram(io, handlers, state);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with code 0; every other commander error is a usage error it already printed.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const reporter =
      state.ctx?.reporter ?? new Reporter(io, { verbose: argv.includes('--verbose'), json: argv.includes('--json') });
    const code = reportFailure(err, reporter, io);
    return code === ExitCode.interrupted ? exitCodeFor(state.ctx?.interrupts.signalName) : code;
  }
}

/** Prints a failure (one line, or with stack under --verbose) and returns its exit code. */
export function reportFailure(err: unknown, reporter: Reporter, io: CliIo = reporter.io): number {
  const cli = toCliError(err);
  io.stderr.write(formatError(cli, { verbose: reporter.verbose, color: colorEnabled(io.stderr, io.env) }));
  if (reporter.json && !reporter.hasResult) {
    const cause = (cli as { cause?: unknown }).cause;
    const type = cause instanceof Error ? cause.name : cli.name;
    reporter.result({ error: { message: cli.line, exitCode: cli.exitCode, type } });
  }
  return cli.exitCode;
}

export { processIo, cliVersion };

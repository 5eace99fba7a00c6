/**
 * The pieces every `fastts` command is built from: commander settings (output streams, one-line usage errors, exit
 * codes), the shared options and the help sections.
 */
import { type Command, Option } from 'commander';
import { BACKENDS, parseFraction, parseNonNegativeInt, parsePositiveInt } from './args.js';
import { oneLine } from './errors.js';
import { colorEnabled, type CliIo } from './output.js';

/** The "Examples:" section of a command's help. */
export function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

/** The help text after `fastts --help`'s options: environment, output, exit codes, examples. */
export const GLOBAL_HELP = `
Environment:
  FASTTS_HOME     cache (default ~/.cache/fastts): weights in models/<arch>/, data sets in data/<name>/
  FASTTS_OFFLINE  set to 1 to forbid downloads of weights and data sets (the error says which file to place where)
  FASTTS_MIRROR   base URL of a mirror: https://<host>/<path> downloads as $FASTTS_MIRROR/<host>/<path>
  FASTTS_BACKEND  default of --backend; FASTTS_THREADS default of --threads
  FASTTS_NATIVE_CONV set to 0 to keep every convolution on the wasm engine (by default 1x1 and strided ones run
                  on ONNX Runtime's native kernels when onnxruntime-node is installed)
  FASTTS_REDIS_URL default of --redis (fastts worker, fastts submit, fastts dashboard): redis://[:password@]host:port
  NO_COLOR        set to turn colours off (https://no-color.org); FORCE_COLOR=1 forces them on

Output:
  Results go to stdout, progress and errors to stderr. With --json, stdout carries exactly one JSON object
  (the result, or {"error": {...}} on failure). Errors print one line; --verbose adds the stack trace.

Exit codes:
  0 success, 1 runtime failure, 2 usage error (bad command line), 130 interrupted by Ctrl-C (143 by SIGTERM)
${examples([
  'fastts train data/pets --arch resnet34 --epochs 1 --unfreeze-epochs 3',
  'fastts lr-find data/pets --arch resnet34',
  'fastts predict runs/20250101-120000-resnet34 photo.jpg more-photos/ --top 3',
  'fastts interpret runs/20250101-120000-resnet34',
  'fastts models',
  'fastts submit train data/pets --arch resnet34,resnet50 --seed 1,2 --runs /shared/runs   (then: fastts worker)',
])}`;

/** The options that select and shape the data set (train, lr-find, show-batch). */
export function addDataOptions(cmd: Command): Command {
  return cmd
    .option('--train <dir>', 'training folder under the data folder', 'train')
    .option('--valid <dir>', 'validation folder under the data folder', 'valid')
    .option('--valid-pct <p>', 'hold out this fraction of the training images instead of a valid folder', parseFraction)
    .option('--test <dir>', 'unlabelled test folder under the data folder (used when it exists)', 'test')
    .option('--size <px>', 'image size fed to the model (square, pixels)', parsePositiveInt, 224)
    .option('--bs <n>', 'batch size', parsePositiveInt, 64)
    .option(
      '--seed <n>',
      'seed for the split, shuffling, augmentation, head initialisation and dropout (default: random, recorded)',
      parseNonNegativeInt,
    );
}

/** `--backend` and `--threads`. */
export function addBackendOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--backend <name>', 'where tensors run: auto tries cuda, then webgpu, then wasm (cpu is pure JS, slow)')
        .choices(BACKENDS)
        .default('auto')
        .env('FASTTS_BACKEND'),
    )
    .addOption(
      new Option('--threads <n>', 'CPU threads of the wasm backend (default: the cores, at most 8)')
        .argParser(parsePositiveInt)
        .env('FASTTS_THREADS'),
    );
}

/** `--json`. */
export function addJson(cmd: Command, what = 'print one JSON object on stdout (progress goes to stderr)'): Command {
  return cmd.option('--json', what);
}

/** Commander settings every command shares: output streams, one-line usage errors, our exit codes. */
export function configure(cmd: Command, io: CliIo): Command {
  const color = colorEnabled(io.stderr, io.env);
  return cmd
    .exitOverride()
    .configureHelp({ showGlobalOptions: true, sortOptions: false })
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => {
        const names: string[] = [];
        for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
        const name = names.join(' '); // `fastts`, `fastts train`, `fastts datasets get`
        const text = oneLine(s.replace(/^error:\s*/i, '')).replace(/[.;:]\s*$/, '');
        write(`${color ? '\u001b[31merror:\u001b[39m' : 'error:'} ${text}; run '${name} --help' for usage\n`);
      },
    });
}

import { describe, expect, it } from 'vitest';
import { CliError, InterruptedError, UsageError } from './errors.js';
import type { CommandHandlers } from './program.js';
import { main } from './program.js';
import { memoryIo } from './test/memory-io.js';

type Call = { command: string; args: unknown[]; options: Record<string, unknown> };

/** Handlers that record what they were called with, or run `behaviour`. */
function recording(behaviour?: (command: string, ctx: Parameters<CommandHandlers['models']>[1]) => Promise<void>) {
  const calls: Call[] = [];
  const record =
    (command: string) =>
    async (...all: unknown[]) => {
      const ctx = all.at(-1) as Parameters<CommandHandlers['models']>[1];
      const options = all.at(-2) as Record<string, unknown>;
      calls.push({ command, args: all.slice(0, -2), options });
      await behaviour?.(command, ctx);
    };
  const handlers: CommandHandlers = {
    train: record('train'),
    lrFind: record('lr-find'),
    predict: record('predict'),
    interpret: record('interpret'),
    showBatch: record('show-batch'),
    export: record('export'),
    models: record('models'),
    dashboard: record('dashboard'),
    datasetsList: record('datasets list'),
    datasetsGet: record('datasets get'),
    worker: record('worker'),
    submitTrain: record('submit train'),
    submitPredict: record('submit predict'),
  };
  return { calls, handlers };
}

describe('fastts command line', () => {
  it('parses train with its defaults', async () => {
    const { calls, handlers } = recording();
    expect(await main(['train', 'data'], memoryIo(), handlers)).toBe(0);
    expect(calls[0]!.args).toEqual(['data']);
    expect(calls[0]!.options).toMatchObject({
      arch: 'resnet34',
      size: 224,
      bs: 64,
      epochs: 1,
      unfreezeEpochs: 0,
      unfreezeLr: { lo: 1e-5, hi: 3e-4 },
      train: 'train',
      valid: 'valid',
      test: 'test',
      backend: 'auto',
      pretrained: true,
      augment: true,
      rows: 3,
      topLosses: 9,
      parallel: 'auto',
    });
    expect(calls[0]!.options.lr).toBeUndefined();
    expect(calls[0]!.options.testRequired).toBe(false);
    expect(calls[0]!.options.seed).toBeUndefined();
  });

  it('parses every train flag of the contract', async () => {
    const { calls, handlers } = recording();
    const argv = [
      'train',
      'd',
      '--arch',
      'mobilenet_v1_0.25_224',
      '--size',
      '128',
      '--bs',
      '16',
      '--epochs',
      '2',
      '--lr',
      '1e-3',
      '--unfreeze-epochs',
      '1',
      '--unfreeze-lr',
      '1e-6:1e-4',
      '--valid',
      'val',
      '--valid-pct',
      '0.25',
      '--test',
      'tst',
      '--seed',
      '7',
      '--backend',
      'wasm',
      '--threads',
      '2',
      '--out',
      'runs/x',
      '--json',
      '--verbose',
      '--parallel',
      'off',
    ];
    expect(await main(argv, memoryIo(), handlers)).toBe(0);
    expect(calls[0]!.options).toMatchObject({
      arch: 'mobilenet_v1_0.25_224',
      size: 128,
      bs: 16,
      epochs: 2,
      lr: 1e-3,
      unfreezeEpochs: 1,
      unfreezeLr: { lo: 1e-6, hi: 1e-4 },
      valid: 'val',
      validPct: 0.25,
      test: 'tst',
      seed: 7,
      backend: 'wasm',
      threads: 2,
      out: 'runs/x',
      json: true,
      parallel: 'off',
      testRequired: true,
    });
  });

  it('parses the other commands', async () => {
    const { calls, handlers } = recording();
    const io = memoryIo();
    expect(await main(['predict', 'runs/r', 'a.jpg', 'dir', '--csv', '--tta', '--top', '3'], io, handlers)).toBe(0);
    expect(await main(['lr-find', 'd', '--num-it', '20', '--out', 'lr.png'], io, handlers)).toBe(0);
    expect(await main(['interpret', 'runs/r', '--top-losses', '4'], io, handlers)).toBe(0);
    expect(await main(['show-batch', 'd', '--rows', '2', '--out', 'b.png'], io, handlers)).toBe(0);
    expect(await main(['export', 'runs/r', '--out', 'm.fastts'], io, handlers)).toBe(0);
    expect(await main(['models', '--json'], io, handlers)).toBe(0);
    expect(calls.map((c) => [c.command, c.args])).toEqual([
      ['predict', ['runs/r', ['a.jpg', 'dir']]],
      ['lr-find', ['d']],
      ['interpret', ['runs/r']],
      ['show-batch', ['d']],
      ['export', ['runs/r']],
      ['models', []],
    ]);
    expect(calls[0]!.options).toMatchObject({ csv: true, tta: true, top: 3 });
    expect(calls[1]!.options).toMatchObject({ numIt: 20, out: 'lr.png', startLr: 1e-7, endLr: 10 });
    expect(calls[2]!.options).toMatchObject({ topLosses: 4, minVal: 1 });
    expect(calls[3]!.options).toMatchObject({ rows: 2, out: 'b.png', ds: 'train' });
    expect(calls[4]!.options).toMatchObject({ out: 'm.fastts' });
    expect(calls[5]!.options).toMatchObject({ json: true });
  });

  it('parses datasets list and get; a nested usage error names the full command', async () => {
    const { calls, handlers } = recording();
    expect(await main(['datasets', 'list', '--json'], memoryIo(), handlers)).toBe(0);
    expect(await main(['datasets', 'get', 'doraemon-walle'], memoryIo(), handlers)).toBe(0);
    expect(calls.map((c) => [c.command, c.args, c.options])).toEqual([
      ['datasets list', [], { json: true }],
      ['datasets get', ['doraemon-walle'], {}],
    ]);
    const io = memoryIo();
    expect(await main(['datasets', 'get'], io, handlers)).toBe(2);
    expect(io.stderr.text).toBe("error: missing required argument 'name'; run 'fastts datasets get --help' for usage\n");
  });

  it.each([
    [['train', 'd', '--lr', 'fast'], "argument 'fast' is invalid"],
    [['train', 'd', '--valid-pct', '20'], 'between 0 and 1'],
    [['train', 'd', '--bs', '0'], "'0' is not a whole number >= 1"],
    [['train', 'd', '--backend', 'tpu'], 'Allowed choices are auto, cuda, webgpu, wasm, cpu'],
    [['train', 'd', '--bogus'], "unknown option '--bogus'"],
    [['trian', 'd'], "unknown command 'trian' (Did you mean train?)"],
    [['predict', 'm'], "missing required argument 'inputs'"],
    [['predict', 'm', 'x', '--json', '--csv'], "option '--json' cannot be used with option '--csv'"],
  ])('%j is a usage error (exit 2) with one clear line', async (argv, message) => {
    const { calls, handlers } = recording();
    const io = memoryIo();
    expect(await main(argv, io, handlers)).toBe(2);
    expect(calls).toEqual([]);
    expect(io.stdout.text).toBe('');
    const lines = io.stderr.text.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]).toContain(message);
    expect(lines[0]).toMatch(/run 'fastts( \S+)? --help' for usage$/);
  });

  it('prints help with examples for every command on stdout, exit 0', async () => {
    for (const command of ['train', 'lr-find', 'predict', 'interpret', 'show-batch', 'export', 'models']) {
      const io = memoryIo();
      expect(await main([command, '--help'], io, recording().handlers)).toBe(0);
      expect(io.stdout.text).toContain(`Usage: fastts ${command}`);
      expect(io.stdout.text).toContain('Examples:');
      expect(io.stdout.text).toContain(`  fastts ${command}`);
      expect(io.stdout.text).toContain('--verbose');
    }
    const io = memoryIo();
    expect(await main(['--help'], io, recording().handlers)).toBe(0);
    for (const word of ['FASTTS_HOME', 'FASTTS_OFFLINE', 'NO_COLOR', 'Exit codes']) expect(io.stdout.text).toContain(word);
  });

  it('prints the version', async () => {
    const io = memoryIo();
    expect(await main(['--version'], io, recording().handlers)).toBe(0);
    expect(io.stdout.text.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('without a command prints help on stderr and exits 2', async () => {
    const io = memoryIo();
    expect(await main([], io, recording().handlers)).toBe(2);
    expect(io.stderr.text).toContain('Usage: fastts');
    expect(io.stdout.text).toBe('');
  });

  it('reports a runtime failure as one line and exit 1, the stack only with --verbose', async () => {
    const failing = recording(async () => {
      throw new Error('cannot decode image x.jpg: corrupt JPEG data');
    });
    const io = memoryIo();
    expect(await main(['models'], io, failing.handlers)).toBe(1);
    expect(io.stderr.text).toBe('error: cannot decode image x.jpg: corrupt JPEG data\n');
    const verbose = memoryIo();
    expect(await main(['models', '--verbose'], verbose, failing.handlers)).toBe(1);
    expect(verbose.stderr.text.split('\n').length).toBeGreaterThan(3);
    expect(verbose.stderr.text).toContain('    at ');
  });

  it('keeps --json stdout to exactly one JSON object, also on failure', async () => {
    const ok = recording(async (_c, ctx) => {
      ctx.reporter.out('human text');
      ctx.reporter.log('progress');
      ctx.reporter.result({ answer: 42 });
    });
    const io = memoryIo();
    expect(await main(['models', '--json'], io, ok.handlers)).toBe(0);
    expect(JSON.parse(io.stdout.text)).toEqual({ answer: 42 });
    expect(io.stdout.text.trim().split('\n')).toHaveLength(1);
    expect(io.stderr.text).toBe('human text\nprogress\n');

    const bad = recording(async () => {
      throw new UsageError("unknown architecture 'resnet343'", { hint: 'did you mean resnet34?' });
    });
    const io2 = memoryIo();
    expect(await main(['models', '--json'], io2, bad.handlers)).toBe(2);
    expect(JSON.parse(io2.stdout.text)).toEqual({
      error: { message: "unknown architecture 'resnet343'; did you mean resnet34?", exitCode: 2, type: 'UsageError' },
    });
    expect(io2.stderr.text).toBe("error: unknown architecture 'resnet343'; did you mean resnet34?\n");
  });

  it('writes human output to stdout without --json', async () => {
    const ok = recording(async (_c, ctx) => {
      ctx.reporter.out('result line');
      ctx.reporter.result({ ignored: true });
    });
    const io = memoryIo();
    expect(await main(['models'], io, ok.handlers)).toBe(0);
    expect(io.stdout.text).toBe('result line\n');
  });

  it('colours only on a terminal and never with NO_COLOR', async () => {
    const failing = recording(async () => {
      throw new CliError('boom');
    });
    const tty = memoryIo();
    tty.stderr.isTTY = true;
    await main(['models'], tty, failing.handlers);
    expect(tty.stderr.text).toContain('\u001b[31m');
    const noColor = memoryIo({ NO_COLOR: '1' });
    noColor.stderr.isTTY = true;
    await main(['models'], noColor, failing.handlers);
    expect(noColor.stderr.text).toBe('error: boom\n');
  });

  it('exits 130 for a command stopped by Ctrl-C and 143 for SIGTERM', async () => {
    for (const [sig, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      const stopped = recording(async (_c, ctx) => {
        process.emit(sig, sig);
        throw new InterruptedError(`stopped by ${ctx.interrupts.by}`, { hint: 'run it again' });
      });
      const io = memoryIo();
      expect(await main(['models'], io, stopped.handlers)).toBe(code);
      expect(io.stderr.text).toContain(`interrupted: stopped by ${sig === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'}; run it again`);
    }
  });

  it('gives the running command an abort signal that the first SIGINT aborts', async () => {
    let aborted: boolean | undefined;
    const listenersBefore = process.listenerCount('SIGINT');
    const waiting = recording(async (_c, ctx) => {
      process.emit('SIGINT', 'SIGINT');
      aborted = ctx.interrupts.signal.aborted;
    });
    const io = memoryIo();
    expect(await main(['models'], io, waiting.handlers)).toBe(0);
    expect(aborted).toBe(true);
    expect(io.stderr.text).toContain('stopping at the end of the current batch');
    expect(process.listenerCount('SIGINT')).toBe(listenersBefore);
  });
});

/**
 * fast.ai's output while fitting, in a terminal: a progress bar per epoch (cli-progress, on stderr when it is a
 * terminal) and the epoch table (`epoch  train_loss  valid_loss  accuracy  time`), one line per epoch. When the
 * output is not a terminal (a log file, CI) only the table's lines are written, plus a line per batch with
 * `verbose`.
 */
import cliProgress from 'cli-progress';
import type { ProgressEvent, ProgressReporter } from '@fastts/core';

/** A stream the progress bar draws on. */
export interface BarStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Options of {@link terminalReporter}. */
export interface TerminalReporterOptions {
  /** Where the table's lines go (default `console.log`). */
  print?: (line: string) => void;
  /** Where the progress bar is drawn (default `process.stderr`). */
  stream?: BarStream;
  /** Draw a progress bar (default: when `stream` is a terminal). */
  bar?: boolean;
  /** Shown before the bar's epoch counter (e.g. `frozen`). */
  label?: string;
  /** Without a bar, also write a line per training batch to `stream` (default false). */
  verbose?: boolean;
}

type BatchEvent = Extract<ProgressEvent, { type: 'batch' }>;

/** A {@link ProgressReporter} printing fast.ai's progress bar and epoch table. */
export function terminalReporter(options: TerminalReporterOptions = {}): ProgressReporter {
  const print = options.print ?? ((line: string) => console.log(line));
  const stream = options.stream ?? process.stderr;
  const drawBar = options.bar ?? stream.isTTY === true;
  const label = options.label ? `${options.label} ` : '';
  let bar: cliProgress.SingleBar | undefined;
  let barEpoch = -1;
  let last = Date.now();

  const stopBar = (): void => {
    bar?.stop();
    bar = undefined;
  };
  const payload = (e: BatchEvent): Record<string, string> => ({
    ep: `${e.epoch + 1}/${e.nEpoch}`,
    stage: e.phase,
    loss: e.loss !== undefined && Number.isFinite(e.loss) ? `loss ${e.loss.toFixed(4)}` : '',
  });
  const onBatch = (e: BatchEvent): void => {
    if (!drawBar) {
      if (options.verbose && e.phase === 'train') {
        const now = Date.now();
        const loss = e.loss !== undefined ? ` loss ${e.loss.toFixed(4)}` : '';
        stream.write(
          `  ${label}epoch ${e.epoch + 1}/${e.nEpoch} batch ${e.iter + 1}/${e.nIter}${loss} (${((now - last) / 1000).toFixed(1)} s)\n`,
        );
        last = now;
      }
      return;
    }
    if (!bar || barEpoch !== e.epoch) {
      stopBar();
      barEpoch = e.epoch;
      bar = new cliProgress.SingleBar(
        {
          stream: stream as unknown as NodeJS.WritableStream,
          format: `${label}epoch {ep} {stage} [{bar}] {value}/{total} {loss} | {duration_formatted} < {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
          barsize: 24,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(e.nIter, 0, payload(e));
    }
    if (bar.getTotal() !== e.nIter) bar.setTotal(e.nIter);
    bar.update(e.iter + 1, payload(e));
  };

  return (e: ProgressEvent) => {
    switch (e.type) {
      case 'begin':
        last = Date.now();
        print(e.header);
        break;
      case 'batch':
        onBatch(e);
        break;
      case 'epoch':
        stopBar();
        print(e.line);
        break;
      case 'end':
        stopBar();
        break;
    }
  };
}

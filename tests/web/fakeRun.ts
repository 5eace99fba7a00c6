/**
 * Fabricates a run directory in the format of apps/web/RUN_FORMAT.md, with real doraemon-walle thumbnails, for
 * dashboard tests that must not wait for a real training run (the acceptance test makes a real one with the CLI).
 */
import { appendFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { DORAEMON_WALLE } from '../../test-support/shared';

export interface FakeRunOptions {
  status?: 'running' | 'finished' | 'failed';
  /** Epoch lines written now. */
  epochs?: number;
  itersPerEpoch?: number;
  /** Write interpretation.json, thumbs, test predictions, PNGs, model/ (a finished run). */
  complete?: boolean;
  /** Confusion matrix to fabricate items for (rows actual, cols predicted). */
  confusion?: number[][];
  k?: number;
}

export const CLASSES = ['doraemon', 'walle'];

/** The one-cycle schedule of DESIGN.md, for plausible lr/mom curves. */
function oneCycle(i: number, n: number, maxLr = 3e-3): { lr: number; mom: number } {
  const p = i / Math.max(1, n - 1);
  const cos = (a: number, b: number, t: number) => b + ((a - b) / 2) * (1 + Math.cos(Math.PI * t));
  if (p < 0.3) return { lr: cos(maxLr / 25, maxLr, p / 0.3), mom: cos(0.95, 0.85, p / 0.3) };
  const t = (p - 0.3) / 0.7;
  return { lr: cos(maxLr, maxLr / 25e4, t), mom: cos(0.85, 0.95, t) };
}

export function batchLine(iter: number, total: number, itersPerEpoch: number): string {
  const { lr, mom } = oneCycle(iter, total);
  const loss = 0.7 * Math.exp(-iter / 6) + 0.05 + 0.03 * Math.sin(iter * 1.7);
  return JSON.stringify({ iter, epoch: Math.floor(iter / itersPerEpoch), phase: 'frozen', loss, lr, mom }) + '\n';
}

export function metricsLine(epoch: number): string {
  const acc = Math.min(1, 0.8 + 0.07 * epoch);
  return (
    JSON.stringify({
      epoch,
      phase: 'frozen',
      train_loss: 0.5 / (epoch + 1),
      valid_loss: 0.4 / (epoch + 1),
      accuracy: acc,
      error_rate: 1 - acc,
      seconds: 12.5,
    }) + '\n'
  );
}

/** Creates `<runsDir>/<id>` and returns its path. */
export async function makeFakeRun(runsDir: string, id: string, o: FakeRunOptions = {}): Promise<string> {
  const dir = join(runsDir, id);
  mkdirSync(dir, { recursive: true });
  const epochs = o.epochs ?? 2;
  const ipe = o.itersPerEpoch ?? 5;
  const totalEpochs = o.complete === false || o.status === 'running' ? epochs + 2 : epochs;
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      arch: 'mobilenet_v1_0.25_224',
      dataDir: DORAEMON_WALLE,
      size: 128,
      bs: 16,
      epochs: totalEpochs,
      classes: CLASSES,
      createdAt: new Date().toISOString(),
    }),
  );
  writeFileSync(
    join(dir, 'status.json'),
    JSON.stringify({
      status: o.status ?? 'finished',
      pid: o.status === 'running' ? process.pid : undefined,
      totalIters: totalEpochs * ipe,
      startedAt: new Date().toISOString(),
    }),
  );
  for (let e = 0; e < epochs; e++) {
    for (let i = 0; i < ipe; i++) appendFileSync(join(dir, 'batches.jsonl'), batchLine(e * ipe + i, totalEpochs * ipe, ipe));
    appendFileSync(join(dir, 'metrics.jsonl'), metricsLine(e));
  }
  if (o.complete === false || o.status === 'running') return dir;

  const confusion = o.confusion ?? [
    [15, 1],
    [2, 15],
  ];
  const validFiles = CLASSES.map((c) =>
    readdirSync(join(DORAEMON_WALLE, 'valid', c))
      .sort()
      .map((f) => `valid/${c}/${f}`),
  );
  const items: object[] = [];
  mkdirSync(join(dir, 'thumbs', 'valid'), { recursive: true });
  mkdirSync(join(dir, 'thumbs', 'test'), { recursive: true });
  let index = 0;
  for (let a = 0; a < confusion.length; a++) {
    let f = 0;
    for (let p = 0; p < confusion.length; p++) {
      for (let n = 0; n < confusion[a]![p]!; n++) {
        const file = validFiles[a]![f++ % validFiles[a]!.length]!;
        const wrong = a !== p;
        items.push({
          index,
          file,
          thumb: `thumbs/valid/${index}.jpg`,
          actual: a,
          pred: p,
          loss: wrong ? 1.5 + index / 100 : 0.02 + index / 1000,
          prob: wrong ? 0.78 : 0.97,
        });
        await sharp(join(DORAEMON_WALLE, file))
          .resize(96, 96, { fit: 'cover' })
          .jpeg({ quality: 70 })
          .toFile(join(dir, 'thumbs', 'valid', `${index}.jpg`));
        index++;
      }
    }
  }
  const k = o.k ?? 9;
  writeFileSync(join(dir, 'interpretation.json'), JSON.stringify({ classes: CLASSES, confusion, items, k }));
  const testFiles = readdirSync(join(DORAEMON_WALLE, 'test')).sort();
  const rows = ['file,label,probability'];
  for (const [r, f] of testFiles.entries()) {
    rows.push(`test/${f},${f.startsWith('walle') ? 'walle' : 'doraemon'},0.9${r}`);
    await sharp(join(DORAEMON_WALLE, 'test', f))
      .resize(96, 96, { fit: 'cover' })
      .jpeg({ quality: 70 })
      .toFile(join(dir, 'thumbs', 'test', `${r}.jpg`));
  }
  writeFileSync(join(dir, 'test_predictions.csv'), rows.join('\n') + '\n');
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#88aaff' } })
    .png()
    .toBuffer();
  for (const f of ['batch.png', 'confusion_matrix.png', 'top_losses.png']) writeFileSync(join(dir, f), png);
  mkdirSync(join(dir, 'model'));
  writeFileSync(join(dir, 'model', 'model.json'), JSON.stringify({ format: 'fake' }));
  return dir;
}

/**
 * `fastts train` end to end on the tutorial's data set (doraemon-walle) with a small pretrained model, run once;
 * the other commands (predict, interpret, export, show-batch, lr-find, models) then work on its run folder.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DORAEMON_WALLE, requireShared } from '../../test-support/shared.js';
import { lines, parseCsv, pngSize, runCli, type CliResult } from './run-cli.js';

const ARCH = 'mobilenet_v1_0.25_224';
const EPOCHS = 3;
const TMP = mkdtempSync(join(tmpdir(), 'fastts-e2e-train-'));
const RUN = join(TMP, 'run');
const TEST_DIR = join(DORAEMON_WALLE, 'test');

interface TrainJson {
  runDir: string;
  arch: string;
  classes: string[];
  valid: { loss: number; accuracy: number };
  epochs: Array<Record<string, unknown>>;
  test: Array<{ file: string; label: string; probability: number }>;
}

let train: CliResult;
let result: TrainJson;

beforeAll(async () => {
  requireShared();
  train = await runCli(
    [
      'train',
      DORAEMON_WALLE,
      '--arch',
      ARCH,
      '--size',
      '128',
      '--bs',
      '32',
      '--epochs',
      String(EPOCHS),
      '--seed',
      '42',
      '--out',
      RUN,
      '--json',
    ],
    { cwd: TMP },
  );
  if (train.code !== 0) throw new Error(`fastts train failed (${train.code}):\n${train.stderr}`);
  result = JSON.parse(train.stdout) as TrainJson;
}, 900_000);

afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe('fastts train --json', () => {
  it('prints exactly one JSON object on stdout, progress and the epoch table on stderr', () => {
    expect(lines(train.stdout)).toHaveLength(1);
    expect(Object.keys(result)).toEqual(expect.arrayContaining(['runDir', 'arch', 'classes', 'valid', 'epochs', 'test']));
    expect(result.runDir).toBe(RUN);
    expect(result.arch).toBe(ARCH);
    expect(result.classes).toEqual(['doraemon', 'walle']);
    expect(train.stderr).toContain('epoch     train_loss  valid_loss  accuracy  error_rate  time');
    expect(train.stderr).not.toMatch(/\u001b\[/); // NO_COLOR and not a terminal: no escape codes
  });

  it('reaches the tutorial accuracy on the validation set', () => {
    expect(result.valid.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(result.valid.loss).toBeGreaterThan(0);
    expect(result.valid.loss).toBeLessThan(0.5);
  });

  it('writes one metrics.jsonl line per epoch with every field', () => {
    const rows = lines(readFileSync(join(RUN, 'metrics.jsonl'), 'utf8')).map(
      (l) => JSON.parse(l) as Record<string, number | string>,
    );
    expect(rows).toHaveLength(EPOCHS);
    expect(rows).toEqual(result.epochs);
    rows.forEach((row, i) => {
      expect(Object.keys(row).sort()).toEqual([
        'accuracy',
        'epoch',
        'error_rate',
        'phase',
        'seconds',
        'train_loss',
        'valid_loss',
      ]);
      expect(row.epoch).toBe(i);
      expect(row.phase).toBe('frozen');
      for (const k of ['train_loss', 'valid_loss', 'seconds']) expect(row[k]).toBeGreaterThan(0);
      expect(row.accuracy as number).toBeCloseTo(1 - (row.error_rate as number), 12);
      // accuracy on 33 validation images is a multiple of 1/33
      expect(Math.round((row.accuracy as number) * 33)).toBeCloseTo((row.accuracy as number) * 33, 9);
    });
    expect(rows[EPOCHS - 1]!.accuracy).toBe(result.valid.accuracy);
  });

  it('records the settings in config.json and the outcome in status.json', () => {
    const config = JSON.parse(readFileSync(join(RUN, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      arch: ARCH,
      size: 128,
      bs: 32,
      epochs: EPOCHS,
      seed: 42,
      classes: ['doraemon', 'walle'],
      nValid: 33,
      nTest: 6,
    });
    const status = JSON.parse(readFileSync(join(RUN, 'status.json'), 'utf8'));
    expect(status.status).toBe('finished');
  });

  it('renders batch.png, confusion_matrix.png and top_losses.png as PNGs that decode', async () => {
    for (const f of ['batch.png', 'confusion_matrix.png', 'top_losses.png']) {
      const { width, height } = await pngSize(join(RUN, f));
      expect(width, f).toBeGreaterThan(100);
      expect(height, f).toBeGreaterThan(100);
    }
  });

  it('writes a test_predictions.csv row per test image, mostly right', () => {
    const rows = parseCsv(readFileSync(join(RUN, 'test_predictions.csv'), 'utf8'));
    expect(rows[0]).toEqual(['file', 'label', 'probability']);
    const data = rows.slice(1);
    expect(data.map((r) => basename(r[0]!)).sort()).toEqual(readdirSync(TEST_DIR).sort());
    for (const [, label, p] of data) {
      expect(['doraemon', 'walle']).toContain(label);
      expect(Number(p)).toBeGreaterThanOrEqual(0.5);
      expect(Number(p)).toBeLessThanOrEqual(1);
    }
    // the file name says the truth
    const right = data.filter(([file, label]) => basename(file!).startsWith(`${label}.`)).length;
    expect(right).toBeGreaterThanOrEqual(5);
    expect(result.test).toEqual(data.map(([file, label, p]) => ({ file, label, probability: Number(p) })));
  });

  it('writes interpretation.json and thumbnails for the dashboard', () => {
    const j = JSON.parse(readFileSync(join(RUN, 'interpretation.json'), 'utf8'));
    expect(j.classes).toEqual(['doraemon', 'walle']);
    expect(j.items).toHaveLength(33);
    const cm = j.confusion as number[][];
    expect(cm.flat().reduce((a, b) => a + b, 0)).toBe(33);
    expect((cm[0]![0]! + cm[1]![1]!) / 33).toBeCloseTo(result.valid.accuracy, 9);
    const isJpeg = (f: string) =>
      readFileSync(join(RUN, f))
        .subarray(0, 3)
        .equals(Buffer.from([0xff, 0xd8, 0xff]));
    for (const item of j.items) expect(isJpeg(item.thumb), item.thumb).toBe(true);
    for (let r = 0; r < 6; r++) expect(isJpeg(`thumbs/test/${r}.jpg`)).toBe(true);
  });

  it('exports the model', () => {
    expect(existsSync(join(RUN, 'model', 'export.safetensors'))).toBe(true);
  });
});

describe('fastts predict', () => {
  it("reproduces the run's test predictions exactly from the exported model", async () => {
    const r = await runCli(['predict', RUN, TEST_DIR, '--csv']);
    expect(r.code, r.stderr).toBe(0);
    const got = parseCsv(r.stdout);
    const want = parseCsv(readFileSync(join(RUN, 'test_predictions.csv'), 'utf8'));
    expect(got[0]).toEqual(['file', 'label', 'probability']);
    expect(got.slice(1).map(([f, l, p]) => [basename(f!), l, p])).toEqual(want.slice(1).map(([f, l, p]) => [basename(f!), l, p]));
  });

  it('gives the top k labels of one image as JSON', async () => {
    const image = join(TEST_DIR, 'walle.123.jpg');
    const r = await runCli(['predict', join(RUN, 'model'), image, '--top', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toHaveLength(1);
    const out = JSON.parse(r.stdout);
    expect(out.predictions).toHaveLength(1);
    const p = out.predictions[0];
    expect(p.file).toBe(image);
    expect(p.top.map((t: { label: string }) => t.label).sort()).toEqual(['doraemon', 'walle']);
    expect(p.top[0].probability + p.top[1].probability).toBeCloseTo(1, 5);
    expect(p.top[0].probability).toBeGreaterThanOrEqual(p.top[1].probability);
    expect(p.label).toBe(p.top[0].label);
  });

  it('--tta averages augmented views: other probabilities, same labels', async () => {
    const r = await runCli(['predict', RUN, TEST_DIR, '--tta', '--csv', '--backend', 'wasm']);
    expect(r.code, r.stderr).toBe(0);
    const tta = parseCsv(r.stdout).slice(1);
    const plain = parseCsv(readFileSync(join(RUN, 'test_predictions.csv'), 'utf8')).slice(1);
    expect(tta.map((row) => basename(row[0]!))).toEqual(plain.map((row) => basename(row[0]!)));
    for (const [, , p] of tta) expect(Number(p)).toBeGreaterThanOrEqual(0.5);
    expect(tta.filter((row, i) => row[2] !== plain[i]![2]).length, 'TTA changes the probabilities').toBeGreaterThan(0);
    const right = tta.filter(([file, label]) => basename(file!).startsWith(`${label}.`)).length;
    expect(right).toBeGreaterThanOrEqual(5);
  });

  it('prints one line per image in plain mode', async () => {
    const r = await runCli(['predict', RUN, join(TEST_DIR, 'doraemon.113.jpg'), join(TEST_DIR, 'walle.113.jpg')]);
    expect(r.code, r.stderr).toBe(0);
    const out = lines(r.stdout);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/doraemon\.113\.jpg {2}(doraemon|walle) {2}[01]\.\d{4}$/);
  });

  it('fails with exit 1 and one clear line on a corrupt image', async () => {
    const corrupt = join(TMP, 'corrupt.jpg');
    writeFileSync(corrupt, readFileSync(join(TEST_DIR, 'walle.113.jpg')).subarray(0, 2000));
    const r = await runCli(['predict', RUN, corrupt, '--backend', 'wasm']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^error: cannot decode image .*corrupt\.jpg: /)]);
  });

  it('says when the model folder holds no export (exit 2)', async () => {
    const r = await runCli(['predict', TMP, join(TEST_DIR, 'walle.113.jpg'), '--backend', 'wasm']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^error: '.*' holds no exported model .*; give a run folder/)]);
  });
});

describe('fastts interpret / export / show-batch / lr-find / models', () => {
  it('interpret re-renders the plots and reports the confusion of the final model', async () => {
    const out = join(TMP, 'interp');
    const r = await runCli(['interpret', RUN, '--top-losses', '4', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.classes).toEqual(['doraemon', 'walle']);
    const cm = j.confusion as number[][];
    expect(cm.flat().reduce((a, b) => a + b, 0)).toBe(33);
    expect(j.accuracy).toBeCloseTo(result.valid.accuracy, 9);
    expect((cm[0]![0]! + cm[1]![1]!) / 33).toBeCloseTo(j.accuracy, 9);
    expect(j.topLosses).toHaveLength(4);
    const wrong = cm[0]![1]! + cm[1]![0]!;
    expect(j.mostConfused.reduce((a: number, m: { count: number }) => a + m.count, 0)).toBe(wrong);
    for (const f of ['confusion_matrix.png', 'top_losses.png']) expect((await pngSize(join(out, f))).width).toBeGreaterThan(100);
  });

  it('export writes one file that predict loads with the same results', async () => {
    const file = join(TMP, 'exported.safetensors');
    const e = await runCli(['export', RUN, '--out', file, '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout)).toMatchObject({ file, source: 'export', arch: ARCH, size: 128, classes: ['doraemon', 'walle'] });
    const p = await runCli(['predict', file, join(TEST_DIR, 'walle.113.jpg'), '--csv']);
    expect(p.code, p.stderr).toBe(0);
    const want = parseCsv(readFileSync(join(RUN, 'test_predictions.csv'), 'utf8')).find((r) => r[0]!.endsWith('walle.113.jpg'))!;
    expect(parseCsv(p.stdout)[1]!.slice(1)).toEqual(want.slice(1));
  });

  it('show-batch renders a grid', async () => {
    const out = join(TMP, 'grid', 'batch.png');
    const r = await runCli(['show-batch', DORAEMON_WALLE, '--rows', '2', '--size', '64', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*batch\.png: 4 train images/);
    const { width, height } = await pngSize(out);
    expect(width).toBeGreaterThanOrEqual(128);
    expect(height).toBeGreaterThanOrEqual(128);
  });

  it('lr-find prints suggestions and plots the sweep', async () => {
    const out = join(TMP, 'lr_find.png');
    const r = await runCli([
      'lr-find',
      DORAEMON_WALLE,
      '--arch',
      ARCH,
      '--size',
      '64',
      '--bs',
      '32',
      '--num-it',
      '16',
      '--seed',
      '1',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.lrs.length).toBeGreaterThan(5);
    expect(j.lrs.length).toBe(j.losses.length);
    for (let i = 1; i < j.lrs.length; i++) expect(j.lrs[i]).toBeGreaterThan(j.lrs[i - 1]);
    expect(j.lrs[0]).toBeGreaterThanOrEqual(1e-7);
    for (const k of ['valley', 'steep', 'minimum']) expect(j.suggestions).toHaveProperty(k);
    expect((await pngSize(out)).width).toBe(640);
  });

  it('models lists the architectures and which weights are cached', async () => {
    const r = await runCli(['models', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    const byArch = new Map(j.models.map((m: { arch: string }) => [m.arch, m]));
    expect(byArch.get(ARCH)).toMatchObject({ cached: true, preprocessing: 'tf' });
    expect(byArch.get('resnet50-keras')).toMatchObject({ cached: true, preprocessing: 'caffe' });
    expect(byArch.get('resnet34')).toMatchObject({ cached: false, preprocessing: 'imagenet' });
    const text = await runCli(['models']);
    expect(text.stdout).toMatch(/resnet34\s+imagenet\s+missing \(offline\)/);
  });
});

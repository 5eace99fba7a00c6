/**
 * `fastts export --format onnx` and `fastts predict --engine auto|onnx|tfjs` end to end, on a small run (MobileNet
 * v1 0.25 at 64 px, one frozen epoch on doraemon-walle): the ONNX Runtime path gives the tfjs path's labels.
 * onnxruntime-node is a devDependency of this package: without it the ONNX predictions fail, and so do these tests.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DORAEMON_WALLE, requireShared } from '../../test-support/shared.js';
import { lines, runCli } from './run-cli.js';

const ARCH = 'mobilenet_v1_0.25_224';
const TMP = mkdtempSync(join(tmpdir(), 'fastts-e2e-onnx-'));
const RUN = join(TMP, 'run');
const ONNX = join(RUN, 'model', 'export.onnx');
const TEST_DIR = join(DORAEMON_WALLE, 'test');

interface PredictJson {
  model: string;
  engine: 'onnx' | 'tfjs';
  predictions: Array<{ file: string; label: string; probability: number; top: Array<{ label: string; probability: number }> }>;
}

async function predict(args: string[]): Promise<PredictJson> {
  const r = await runCli(['predict', ...args, '--top', '2', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PredictJson;
}

beforeAll(async () => {
  requireShared();
  const train = await runCli(
    [
      'train',
      DORAEMON_WALLE,
      '--arch',
      ARCH,
      '--size',
      '64',
      '--bs',
      '32',
      '--epochs',
      '1',
      '--seed',
      '3',
      '--out',
      RUN,
      '--json',
    ],
    { cwd: TMP },
  );
  if (train.code !== 0) throw new Error(`fastts train failed (${train.code}):\n${train.stderr}`);
}, 900_000);

afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe('fastts export --format onnx', () => {
  it("writes the run's model/export.onnx and says how to use it", async () => {
    const r = await runCli(['export', RUN, '--format', 'onnx', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      file: ONNX,
      source: 'export',
      format: 'onnx',
      arch: ARCH,
      size: 64,
      classes: ['doraemon', 'walle'],
    });
    expect(existsSync(ONNX)).toBe(true);
    const plain = await runCli(['export', RUN, '--format', 'onnx', '--out', join(TMP, 'copy.onnx')], { cwd: TMP });
    expect(plain.code, plain.stderr).toBe(0);
    expect(lines(plain.stdout)).toEqual([
      `wrote copy.onnx (${ARCH}, 64 px, classes doraemon, walle); use it with: fastts predict copy.onnx <image>`,
    ]);
  });
});

describe('fastts predict --engine', () => {
  it('gives the same labels (and probabilities within 1e-4) through ONNX Runtime as through tfjs; auto picks ONNX Runtime', async () => {
    const onnx = await predict([RUN, TEST_DIR, '--engine', 'onnx']);
    const tfjs = await predict([RUN, TEST_DIR, '--engine', 'tfjs']);
    const auto = await predict([RUN, TEST_DIR]);
    expect([onnx.engine, tfjs.engine, auto.engine]).toEqual(['onnx', 'tfjs', 'onnx']);
    expect(onnx.model).toBe(ONNX);
    expect(tfjs.model).toBe(join(RUN, 'model', 'export.safetensors'));
    expect(onnx.predictions).toHaveLength(6);
    expect(onnx.predictions.map((p) => [p.file, p.label, p.top.map((t) => t.label)])).toEqual(
      tfjs.predictions.map((p) => [p.file, p.label, p.top.map((t) => t.label)]),
    );
    onnx.predictions.forEach((p, i) => {
      p.top.forEach((t, k) => expect(Math.abs(t.probability - tfjs.predictions[i]!.top[k]!.probability)).toBeLessThan(1e-4));
    });
    expect(auto.predictions).toEqual(onnx.predictions);
    // the .onnx file itself is a model too
    const file = await predict([ONNX, join(TEST_DIR, 'walle.113.jpg')]);
    expect(file.engine).toBe('onnx');
    expect(file.predictions[0]).toEqual(onnx.predictions.find((p) => p.file.endsWith('walle.113.jpg')));
  });

  it('uses tfjs for auto when the ONNX export is older than the weights, and says so', async () => {
    const stale = join(TMP, 'stale');
    mkdirSync(join(stale, 'model'), { recursive: true });
    copyFileSync(ONNX, join(stale, 'model', 'export.onnx'));
    copyFileSync(join(RUN, 'model', 'export.safetensors'), join(stale, 'model', 'export.safetensors'));
    utimesSync(join(stale, 'model', 'export.onnx'), new Date(2020, 0, 1), new Date(2020, 0, 1));
    const r = await runCli(['predict', stale, join(TEST_DIR, 'walle.113.jpg'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as PredictJson).engine).toBe('tfjs');
    expect(r.stderr).toMatch(
      /export\.onnx is older than .*export\.safetensors: re-export it with fastts export .* --format onnx/,
    );
  });

  it('says what to do when the ONNX engine cannot be used (exit 2)', async () => {
    const noOnnx = join(TMP, 'no-onnx');
    mkdirSync(join(noOnnx, 'model'), { recursive: true });
    copyFileSync(join(RUN, 'model', 'export.safetensors'), join(noOnnx, 'model', 'export.safetensors'));
    const image = join(TEST_DIR, 'walle.113.jpg');
    const missing = await runCli(['predict', noOnnx, image, '--engine', 'onnx']);
    expect(missing.code).toBe(2);
    expect(lines(missing.stderr)).toEqual([
      expect.stringMatching(
        /^error: '.*no-onnx' has no ONNX export \(model\/export\.onnx\); write one with: fastts export .*no-onnx --format onnx$/,
      ),
    ]);
    const tta = await runCli(['predict', RUN, image, '--engine', 'onnx', '--tta']);
    expect(tta.code).toBe(2);
    expect(lines(tta.stderr)).toEqual([
      'error: --tta runs on tfjs, not ONNX Runtime; use --engine tfjs with the run folder or its .safetensors export',
    ]);
    const tfjsOnOnnx = await runCli(['predict', ONNX, image, '--engine', 'tfjs']);
    expect(tfjsOnOnnx.code).toBe(2);
    expect(lines(tfjsOnOnnx.stderr)).toEqual([
      expect.stringMatching(/is an ONNX model: tfjs reads the \.safetensors export; use --engine onnx, or give the run folder$/),
    ]);
  });
});

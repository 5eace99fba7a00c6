/**
 * Parity with real torchvision for the depths the shared fixture does not cover (resnet34, resnet50), for
 * training-mode BatchNorm and for the legacy torch.save format: a Python script makes randomly initialized torchvision models (BatchNorm statistics
 * randomized), saves them with torch.save into a temp folder with an input and torch's outputs, and we compare.
 * Needs a Python with torch + torchvision: Debian's `apt-get install python3-torch python3-torchvision` (`.ci/run`
 * installs them; `npm run bench` needs them too), or `FASTTS_PYTHON=/path/to/python`. Without one these tests
 * fail, saying what to install; `FASTTS_SKIP_TORCH_PARITY=1` skips them explicitly.
 */
import * as tf from '@tensorflow/tfjs-core';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTorchCheckpoint } from '../weights/torch.js';
import type { ResNet } from './resnet.js';
import { createModel } from './registry.js';
import { float32FromBytes, maxAbsDiff, useWasmBackend } from './testing.js';

/** Debian's Python first (pyenv's shim on PATH usually lacks torch), as `npm run bench` looks for it. */
const CANDIDATES = process.env.FASTTS_PYTHON
  ? [process.env.FASTTS_PYTHON]
  : ['/usr/bin/python3.11', 'python3.11', '/usr/bin/python3', 'python3'];
const PYTHON = CANDIDATES.find((py) => spawnSync(py, ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status === 0);
const SKIP = process.env.FASTTS_SKIP_TORCH_PARITY === '1';
const MISSING =
  `no Python here can import torch and torchvision (tried ${CANDIDATES.join(', ')}): install Debian's ` +
  '`apt-get install python3-torch python3-torchvision` (what .ci/run does), or set FASTTS_PYTHON to a Python that ' +
  'has them; FASTTS_SKIP_TORCH_PARITY=1 skips these tests on purpose';

if (!PYTHON && SKIP) console.warn(`torchvision parity tests skipped (FASTTS_SKIP_TORCH_PARITY=1): ${MISSING}`);

describe.runIf(!PYTHON && !SKIP)('torchvision parity: PyTorch is required', () => {
  it('finds a Python with torch and torchvision', () => {
    throw new Error(MISSING);
  });
});

const SCRIPT = `
import sys, torch, torchvision
out = sys.argv[1]
torch.manual_seed(0)
for arch in ['resnet34', 'resnet50']:
    m = getattr(torchvision.models, arch)()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5); mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5); mod.bias.uniform_(-0.2, 0.2)
    x = torch.randn(2, 3, 64, 64)
    m.eval()
    with torch.no_grad(): y = m(x)
    torch.save(m.state_dict(), f'{out}/{arch}.pth')
    torch.save(m.state_dict(), f'{out}/{arch}.legacy.pth', _use_new_zipfile_serialization=False)
    x.numpy().astype('<f4').tofile(f'{out}/{arch}.input.f32')
    y.numpy().astype('<f4').tofile(f'{out}/{arch}.eval.f32')
    m.train()
    with torch.no_grad(): yt = m(x)
    yt.numpy().astype('<f4').tofile(f'{out}/{arch}.train.f32')
    m.layer1[0].bn1.running_var.numpy().astype('<f4').tofile(f'{out}/{arch}.rv.f32')
`;

describe.runIf(PYTHON)('torchvision parity (generated with local PyTorch)', () => {
  let dir: string;
  const f32 = (name: string): Float32Array => float32FromBytes(new Uint8Array(readFileSync(join(dir, name))));

  beforeAll(async () => {
    await useWasmBackend();
    dir = mkdtempSync(join(tmpdir(), 'fastts-tv-'));
    execFileSync(PYTHON!, ['-c', SCRIPT, dir], { stdio: 'inherit', timeout: 300_000 });
  }, 300_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(['resnet34', 'resnet50'])('%s: eval logits, train logits and running stats match torch', async (arch) => {
    const sd = readTorchCheckpoint(new Uint8Array(readFileSync(join(dir, `${arch}.pth`))));
    const legacy = readTorchCheckpoint(new Uint8Array(readFileSync(join(dir, `${arch}.legacy.pth`))));
    expect([...legacy.keys()]).toEqual([...sd.keys()]);
    for (const [k, t] of sd) expect(await maxAbsDiff(t, legacy.get(k)!)).toBe(0);
    const model = createModel(arch) as ResNet;
    model.loadStateDict(sd, { strict: true });
    tf.dispose([...sd.values(), ...legacy.values()]);
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(f32(`${arch}.input.f32`), [2, 3, 64, 64]), [0, 2, 3, 1])) as tf.Tensor4D;
    const check = async (y: tf.Tensor, file: string, tol: number): Promise<void> => {
      const ref = tf.tensor(f32(file), y.shape);
      expect(await maxAbsDiff(y, ref)).toBeLessThan(tol);
      tf.dispose([y, ref]);
    };
    await check(model.eval().forward(x), `${arch}.eval.f32`, 1e-3);
    await check(model.train().forward(x), `${arch}.train.f32`, 1e-3);
    await check(
      tf.clone((model.layer1.at(0) as unknown as { bn1: { runningVar: tf.Tensor } }).bn1.runningVar),
      `${arch}.rv.f32`,
      1e-5,
    );
    x.dispose();
    model.dispose();
  });
});

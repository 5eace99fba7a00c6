import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR } from '../../../../test-support/shared.js';
import { BatchNorm1d } from '../nn/batchnorm.js';
import { type Linear } from '../nn/linear.js';
import { WeightsCompatibilityError } from '../weights/errors.js';
import { pretrainedFromBytes } from '../weights/pretrained.js';
import type { ArchModel } from './arch-model.js';
import type { ResNet } from './resnet.js';
import { createHead } from './head.js';
import { createBody, createModel, getArch, listArchs, preprocess, UnknownArchError } from './registry.js';
import { useWasmBackend } from './testing.js';

const FIXTURE_PTH = join(SHARED_DIR, 'fixtures', 'torchvision-resnet18', 'resnet18.pth');

/** Every parameter appears in exactly one layer group, and the groups cover the model. */
function expectGroupsPartition(model: ArchModel, expectedGroups: number): void {
  const groups = model.layerGroups();
  expect(groups.length).toBe(expectedGroups);
  const seen = new Set<tf.Variable>();
  for (const g of groups)
    for (const m of g)
      for (const p of m.parameters()) {
        expect(seen.has(p)).toBe(false);
        seen.add(p);
      }
  expect(seen.size).toBe(model.parameters().length);
}

describe('architecture registry', () => {
  beforeAll(useWasmBackend);

  it('lists the zoo and suggests close names for typos', () => {
    expect(listArchs()).toEqual([
      'mobilenet_v1_0.25_224',
      'mobilenet_v1_0.50_224',
      'mobilenet_v1_0.75_224',
      'mobilenet_v1_1.0_224',
      'resnet101',
      'resnet152',
      'resnet18',
      'resnet34',
      'resnet50',
      'resnet50-keras',
    ]);
    expect(getArch('ResNet34').name).toBe('resnet34');
    expect(getArch('mobilenet_v1_0.5_224').name).toBe('mobilenet_v1_0.50_224');
    expect(getArch('resnet50_keras').name).toBe('resnet50-keras');
    let err: unknown;
    try {
      getArch('resnet35');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnknownArchError);
    expect((err as UnknownArchError).suggestions).toContain('resnet34');
    expect((err as Error).message).toMatch(/unknown architecture 'resnet35'\. Did you mean 'resnet34'/);
    expect(() => createModel('mobilenet')).toThrow(/unknown architecture 'mobilenet'\. Did you mean 'mobilenet_v1_/);
  });

  it('knows each architecture preprocessing (pixels 0..255 in)', async () => {
    const px = tf.tensor4d([255, 0, 128], [1, 1, 1, 3]);
    const close = async (arch: string, want: number[]): Promise<void> => {
      const got = Array.from(await preprocess(arch, px).data());
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    };
    await close('resnet34', [(1 - 0.485) / 0.229, (0 - 0.456) / 0.224, (128 / 255 - 0.406) / 0.225]);
    await close('resnet50-keras', [128 - 103.939, 0 - 116.779, 255 - 123.68]); // BGR order
    await close('mobilenet_v1_0.25_224', [1, -1, 128 / 127.5 - 1]);
  });

  it.each([
    ['resnet18', 512, [1, 2, 2, 512], 60], // torchvision: 62 with fc
    ['resnet50', 2048, [1, 2, 2, 2048], 159], // torchvision: 161 with fc
    ['resnet50-keras', 2048, [1, 2, 2, 2048], 212],
    ['mobilenet_v1_0.25_224', 256, [1, 2, 2, 256], 81],
  ] as const)('%s: body cut before pooling, nf and layer groups', (arch, nf, shape, nParams) => {
    const body = createBody(arch).eval();
    expect(body.nf).toBe(nf);
    expect(getArch(arch).nf).toBe(nf);
    expect(body.includeTop).toBe(false);
    expect(body.parameters().length).toBe(nParams);
    const y = body.forward(tf.zeros([1, 64, 64, 3]));
    expect(y.shape).toEqual(shape);
    y.dispose();
    expectGroupsPartition(body, 2);
    body.dispose();
    const full = createModel(arch, { numClasses: 3 });
    expectGroupsPartition(full, 3);
    const head = full.layerGroups()[2]!;
    expect(
      head
        .flatMap((m) => m.parameters())
        .every((p) =>
          full.headKeyPrefixes.some((k) =>
            full
              .namedParameters()
              .find(([, q]) => q === p)![0]
              .startsWith(k),
          ),
        ),
    ).toBe(true);
    full.dispose();
  });

  it('builds torchvision state-dict names for every depth', () => {
    const count = (arch: string): [number, string[]] => {
      const m = createModel(arch);
      const keys = [...m.stateDictShapes().keys()];
      m.dispose();
      return [keys.length, keys];
    };
    const [n34, k34] = count('resnet34');
    expect(n34).toBe(218); // torchvision resnet34().state_dict() has 218 entries
    expect(k34).toContain('layer3.5.bn2.num_batches_tracked');
    const [n50, k50] = count('resnet50');
    expect(n50).toBe(320);
    expect(k50).toContain('layer1.0.downsample.0.weight');
    expect(k50).toContain('layer4.2.conv3.weight');
  });

  it('loads ImageNet weights into a model with another number of classes, keeping the new head', () => {
    const weights = pretrainedFromBytes('resnet18', new Uint8Array(readFileSync(FIXTURE_PTH)), FIXTURE_PTH);
    const model = createModel('resnet18', { numClasses: 2, weights }).eval() as ResNet;
    expect(model.fc!.weight.shape).toEqual([512, 2]);
    const body = createBody('resnet18', { weights }).eval();
    const a = tf.tidy(() => model.features(tf.ones([1, 32, 32, 3])));
    const b = body.forward(tf.ones([1, 32, 32, 3]));
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0);
    expect(() => createModel('resnet34', { weights })).toThrow(WeightsCompatibilityError);
    tf.dispose([a, b]);
    weights.dispose();
    model.dispose();
    body.dispose();
  });
});

describe('createHead', () => {
  beforeAll(useWasmBackend);

  it('builds fast.ai head layers with fast.ai names', () => {
    const head = createHead(512, 2);
    expect([...head.stateDictShapes()].filter(([k]) => !k.includes('running') && !k.includes('num_batches'))).toEqual([
      ['2.weight', [1024]],
      ['2.bias', [1024]],
      ['4.weight', [512, 1024]],
      ['4.bias', [512]],
      ['6.weight', [512]],
      ['6.bias', [512]],
      ['8.weight', [2, 512]],
      ['8.bias', [2]],
    ]);
    expect(head.at(2)).toBeInstanceOf(BatchNorm1d);
    expect((head.at(3) as unknown as { p: number }).p).toBe(0.25);
    expect((head.at(7) as unknown as { p: number }).p).toBe(0.5);
    expect(Array.from((head.at(8) as Linear).bias!.dataSync())).toEqual([0, 0]);
    head.eval();
    const y = head.forward(tf.randomNormal([3, 7, 7, 512]));
    expect(y.shape).toEqual([3, 2]);
    y.dispose();
    head.dispose();
    expect(() => createHead(512, 0)).toThrow(/numClasses must be a positive integer/);
  });
});

/**
 * The ONNX export's structure and metadata (its numbers are checked against ONNX Runtime in @fastts/node-gpu and
 * tests/, where onnxruntime-node is installed).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { Learner } from '../learner/learner.js';
import { MemoryStorage } from '../learner/storage.js';
import { stripesData, tinyNet } from '../learner/testing.js';
import { createCnnModel } from '../learner/vision.js';
import { CAFFE_PREPROCESSING, IMAGENET_PREPROCESSING, TF_PREPROCESSING } from '../models/preprocessing.js';
import { Module } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { Conv2d } from '../nn/conv.js';
import { VERSION } from '../version.js';
import { OnnxExportError } from './errors.js';
import { readOnnxInfo, toOnnx } from './export.js';
import { onnxPads, samePadding } from './layers.js';
import { resolveExportOptions } from './learner-export.js';
import { decodeOnnxModel, type OnnxModel } from './proto.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const opCounts = (m: OnnxModel): Record<string, number> =>
  m.graph.node.reduce<Record<string, number>>((acc, n) => ({ ...acc, [n.opType]: (acc[n.opType] ?? 0) + 1 }), {});
const dimsOf = (m: OnnxModel, which: 'input' | 'output', i = 0): Array<number | string> =>
  m.graph[which][i]!.type.tensorType.shape.dim.map((d) =>
    'dimParam' in d && d.dimParam ? d.dimParam : (d as { dimValue: number }).dimValue,
  );

describe('toOnnx', () => {
  it('writes a MobileNet + fast.ai head in eval mode: folded BatchNorms, no Dropout, preprocessing first, two outputs', async () => {
    const model = createCnnModel('mobilenet_v1_0.25_224', 3);
    const decodeTarget = { width: 48, height: 48, fit: 'fill' as const };
    const bytes = await toOnnx(model, {
      classes: ['a', 'b', 'c'],
      size: 32,
      preprocessing: TF_PREPROCESSING,
      arch: 'mobilenet_v1_0.25_224',
      decodeTarget,
      nf: 256,
      head: {},
    });
    const m = decodeOnnxModel(bytes);
    expect(m.irVersion).toBe(8);
    expect(m.opsetImport).toEqual([{ domain: '', version: 17 }]);
    expect(m.producerName).toBe('fastts');
    expect(dimsOf(m, 'input')).toEqual(['N', 3, 32, 32]);
    expect(m.graph.input[0]!.name).toBe('pixels');
    expect(m.graph.output.map((o) => o.name)).toEqual(['logits', 'probs']);
    expect(dimsOf(m, 'output', 0)).toEqual(['N', 3]);
    const ops = opCounts(m);
    // conv1 + 13 x (depthwise, pointwise), every BatchNorm2d folded in, each followed by ReLU6 = Clip(0, 6)
    expect(ops.Conv).toBe(27);
    expect(ops.Clip).toBe(27);
    expect(ops.BatchNormalization).toBeUndefined();
    expect(ops.Dropout).toBeUndefined();
    // head: concat pool, flatten, 2 x BatchNorm1d as Mul + Add, 2 Gemm; preprocessing: one Mul + Add
    expect(ops).toMatchObject({
      GlobalMaxPool: 1,
      GlobalAveragePool: 1,
      Concat: 1,
      Flatten: 1,
      Gemm: 2,
      Mul: 3,
      Add: 3,
      Relu: 1,
      Softmax: 1,
    });
    expect(m.graph.node.slice(0, 2).map((n) => n.opType)).toEqual(['Mul', 'Add']);
    expect(m.graph.node[0]!.input[0]).toBe('pixels');
    // depthwise convolutions are grouped, one group per channel
    const dw = m.graph.node.find((n) => n.name === '0.conv_dw_1')!;
    expect(dw.attribute.find((a) => a.name === 'group')!.i).toBe(8);
    // TensorFlow 'same' padding of a stride-2 conv on an even size: the extra row and column at the end
    expect(m.graph.node.find((n) => n.name === '0.conv1')!.attribute.find((a) => a.name === 'pads')!.ints).toEqual([0, 0, 1, 1]);
    const names = new Set([...m.graph.initializer.map((t) => t.name), ...m.graph.node.flatMap((n) => n.output), 'pixels']);
    for (const n of m.graph.node) for (const i of n.input) expect(names.has(i), `${n.name} input ${i}`).toBe(true);
    const meta = Object.fromEntries(m.metadataProps.map((e) => [e.key, e.value]));
    expect(meta).toMatchObject({
      'fastts.format': 'fastts-onnx',
      'fastts.version': VERSION,
      arch: 'mobilenet_v1_0.25_224',
      size: '32',
      input_layout: 'NCHW',
      classes: '["a","b","c"]',
    });
    expect(JSON.parse(meta.preprocessing!)).toMatchObject({ name: 'tf', kerasMode: 'tf', inGraph: true });
    expect(JSON.parse(meta.decodeTarget!)).toEqual(decodeTarget);
    model.dispose();
  });

  it('records ImageNet mean/std for torchvision weights and reverses channels for Keras caffe weights', async () => {
    const resnet = createCnnModel('resnet18', 2);
    const r = decodeOnnxModel(
      await toOnnx(resnet, { classes: ['x', 'y'], size: 64, preprocessing: IMAGENET_PREPROCESSING, arch: 'resnet18' }),
    );
    const pre = JSON.parse(r.metadataProps.find((e) => e.key === 'preprocessing')!.value);
    expect(pre).toMatchObject({ name: 'imagenet', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    // 1 stem conv + 8 blocks x 2 convs + 3 downsample convs, BatchNorms folded; 8 residual additions
    expect(opCounts(r)).toMatchObject({ Conv: 20, MaxPool: 1, Gemm: 2 });
    expect(opCounts(r).Gather).toBeUndefined();
    resnet.dispose();
    const keras = createCnnModel('resnet50-keras', 2);
    const k = decodeOnnxModel(
      await toOnnx(
        keras,
        { classes: ['x', 'y'], size: 64, preprocessing: CAFFE_PREPROCESSING, arch: 'resnet50-keras' },
        { inputLayout: 'NHWC' },
      ),
    );
    expect(dimsOf(k, 'input')).toEqual(['N', 64, 64, 3]);
    expect(k.graph.node.slice(0, 4).map((n) => n.opType)).toEqual(['Transpose', 'Mul', 'Add', 'Gather']);
    // 16 bottlenecks x 3 convs + 4 projection shortcuts + the stem
    expect(opCounts(k).Conv).toBe(53);
    keras.dispose();
  });

  it('names the module it cannot export', async () => {
    class Custom extends Module {
      override forward(x: tf.Tensor): tf.Tensor {
        return x;
      }
    }
    const model = new Sequential(new Conv2d(3, 4, 3), new Custom());
    await expect(toOnnx(model, { classes: ['a'], size: 8, preprocessing: IMAGENET_PREPROCESSING })).rejects.toThrow(
      /cannot export module '1' \(Custom\) to ONNX: the exporter knows .*Linear/,
    );
    await expect(
      toOnnx(new Sequential(new Conv2d(3, 4, 3)), { classes: ['a'], size: 8, preprocessing: IMAGENET_PREPROCESSING }),
    ).rejects.toThrow(/output has shape \[N,4,6,6\] but there are 1 classes/);
    await expect(
      toOnnx(new Sequential(new Conv2d(1, 4, 3)), { classes: ['a'], size: 8, preprocessing: IMAGENET_PREPROCESSING }),
    ).rejects.toThrow(OnnxExportError);
    model.dispose();
  });
});

describe('readOnnxInfo', () => {
  it('reads back what the export records, and rejects files that are not fastts exports', async () => {
    const { model } = tinyNet(2);
    const bytes = await toOnnx(model, {
      classes: ['h', 'v'],
      size: 12,
      preprocessing: IMAGENET_PREPROCESSING,
      head: { ps: 0.25 },
    });
    const info = readOnnxInfo(bytes, 'tiny.onnx');
    expect(info).toMatchObject({
      arch: 'Sequential',
      classes: ['h', 'v'],
      size: 12,
      inputLayout: 'NCHW',
      fasttsVersion: VERSION,
      input: 'pixels',
      logits: 'logits',
      probs: 'probs',
      head: { ps: 0.25 },
    });
    expect(info.preprocessing).toEqual({
      ...IMAGENET_PREPROCESSING,
      scale: [...IMAGENET_PREPROCESSING.scale],
      offset: [...IMAGENET_PREPROCESSING.offset],
    });
    expect(() => readOnnxInfo(new Uint8Array([1, 2, 3, 4, 5]), 'junk.onnx')).toThrow(/^junk.onnx is not an ONNX model/);
    expect(() => readOnnxInfo(new Uint8Array(0), 'empty.onnx')).toThrow(/^empty.onnx is an ONNX model but not a fastts export/);
    model.dispose();
  });
});

describe('paddings', () => {
  it("computes TensorFlow 'same' and PyTorch symmetric paddings", () => {
    expect(samePadding(224, 3, 2, 1)).toEqual([0, 1]);
    expect(samePadding(225, 3, 2, 1)).toEqual([1, 1]);
    expect(samePadding(56, 3, 1, 1)).toEqual([1, 1]);
    expect(samePadding(7, 1, 1, 1)).toEqual([0, 0]);
    expect(onnxPads(3, [224, 224], [7, 7], [2, 2], [1, 1])).toEqual([3, 3, 3, 3]);
    expect(onnxPads([1, 2], [8, 8], [3, 5], [1, 1], [1, 1])).toEqual([1, 2, 1, 2]);
    expect(onnxPads('valid', [8, 8], [3, 3], [1, 1], [1, 1])).toEqual([0, 0, 0, 0]);
  });
});

describe('learn.export', () => {
  it("writes export.onnx with { format: 'onnx' } and keeps export(fname) for safetensors", async () => {
    const storage = new MemoryStorage();
    const { model, layerGroups } = tinyNet(2);
    const learn = new Learner(stripesData({ nTrain: 8, nValid: 4 }), model, {
      storage,
      layerGroups,
      exportInfo: { arch: 'tiny', size: 12, preprocessing: IMAGENET_PREPROCESSING },
    });
    expect(await learn.export({ format: 'onnx' })).toBe('export.onnx');
    expect(readOnnxInfo(await storage.readFile('export.onnx'))).toMatchObject({
      arch: 'tiny',
      classes: ['horizontal', 'vertical'],
      size: 12,
    });
    expect(await learn.export({ format: 'onnx', fname: 'm.onnx', inputLayout: 'NHWC' })).toBe('m.onnx');
    expect(readOnnxInfo(await storage.readFile('m.onnx')).inputLayout).toBe('NHWC');
    expect(await learn.export('weights.safetensors')).toBe('weights.safetensors');
    expect(await learn.export()).toBe('export.safetensors');
    const plain = new Learner(stripesData({ nTrain: 8, nValid: 4 }), tinyNet(2).model, { storage });
    await expect(plain.export({ format: 'onnx' })).rejects.toThrow(
      /ONNX export needs the input size and preprocessing of a vision learner/,
    );
    await learn.dispose();
    await plain.dispose();
  });

  it('resolves formats and file names', () => {
    expect(resolveExportOptions({})).toEqual({ format: 'safetensors', fname: 'export.safetensors' });
    expect(resolveExportOptions('a.safetensors')).toEqual({ format: 'safetensors', fname: 'a.safetensors' });
    expect(resolveExportOptions('a.onnx')).toEqual({ format: 'onnx', fname: 'a.onnx' });
    expect(resolveExportOptions({ format: 'onnx' })).toEqual({ format: 'onnx', fname: 'export.onnx' });
    expect(() => resolveExportOptions({ format: 'tflite' as never })).toThrow(/unknown format 'tflite'/);
  });
});

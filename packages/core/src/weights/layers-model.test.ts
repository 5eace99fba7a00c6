import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR } from '../../../../test-support/shared.js';
import { StateDictError } from '../nn/errors.js';
import { createModel } from '../models/registry.js';
import { useWasmBackend } from '../models/testing.js';
import { WeightsCompatibilityError, WeightsFormatError } from './errors.js';
import { kerasWeightKey, readLayersModel } from './layers-model.js';
import { pretrainedFromLayersModel } from './pretrained.js';

const DIR = join(SHARED_DIR, 'models', 'mobilenet_v1_0.25_224');
const modelJson = (): { weightsManifest: Array<{ paths: string[] }>; modelTopology: unknown } =>
  JSON.parse(readFileSync(join(DIR, 'model.json'), 'utf8'));
const shard = (p: string): Uint8Array => new Uint8Array(readFileSync(join(DIR, p)));

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('TF.js layers-model reader', () => {
  beforeAll(useWasmBackend);

  it('maps Keras weight names onto module names', () => {
    expect(kerasWeightKey('conv1/kernel')).toBe('conv1.weight');
    expect(kerasWeightKey('conv_dw_3/depthwise_kernel')).toBe('conv_dw_3.weight');
    expect(kerasWeightKey('conv1_bn/moving_variance')).toBe('conv1_bn.running_var');
    expect(kerasWeightKey('model/bn_conv1/gamma:0')).toBe('bn_conv1.weight');
    expect(kerasWeightKey('fc1000/bias')).toBe('fc1000.bias');
  });

  it('loads mobilenet_v1_0.25 into the native module strictly, with its topology', async () => {
    const { weights, layers } = await readLayersModel(modelJson(), shard);
    expect(weights.size).toBe(137);
    expect(weights.get('conv_dw_1/depthwise_kernel')!.shape).toEqual([3, 3, 8, 1]);
    expect(layers.find((l) => l.name === 'conv1_bn')).toMatchObject({
      className: 'BatchNormalization',
      config: { epsilon: 0.001 },
    });
    tf.dispose([...weights.values()]);
    const pw = await pretrainedFromLayersModel('mobilenet_v1_0.25_224', modelJson(), shard, DIR);
    const model = createModel('mobilenet_v1_0.25_224', { weights: pw });
    const sd = model.stateDict({ layout: 'native' });
    expect(await sd.get('conv_preds.bias')!.data()).toEqual(await pw.stateDict.get('conv_preds.bias')!.data());
    tf.dispose([...sd.values()]);
    pw.dispose();
    model.dispose();
  });

  it('names the shard when one is truncated or unreadable', async () => {
    const truncated = (p: string): Uint8Array => (p.endsWith('group29-shard1of1') ? shard(p).subarray(0, 1000) : shard(p));
    const e = await rejection(readLayersModel(modelJson(), truncated));
    expect(e).toBeInstanceOf(WeightsFormatError);
    expect(e.message).toMatch(
      /weight group 29 needs 1028000 bytes but its shards hold 1000: mobilenet_group29-shard1of1 \(1000 bytes\)/,
    );
    const missing = (p: string): Uint8Array => {
      if (p.endsWith('group3-shard1of1')) throw new Error('ENOENT: no such file');
      return shard(p);
    };
    expect((await rejection(readLayersModel(modelJson(), missing))).message).toMatch(
      /cannot read shard 'mobilenet_group3-shard1of1': ENOENT/,
    );
    const before = tf.memory().numTensors;
    await rejection(readLayersModel(modelJson(), truncated));
    expect(tf.memory().numTensors).toBe(before); // tensors decoded before the failure are released
  });

  it('rejects shard paths that leave the model folder, and non-manifests', async () => {
    const json = modelJson();
    json.weightsManifest[0]!.paths = ['../../etc/passwd'];
    expect((await rejection(readLayersModel(json, shard))).message).toMatch(/unsafe shard path "\.\.\/\.\.\/etc\/passwd"/);
    expect((await rejection(readLayersModel('{"modelTopology": {}}', shard))).message).toMatch(/no weightsManifest/);
    expect((await rejection(readLayersModel('{"weightsMan', shard))).message).toMatch(/not valid JSON/);
  });

  it('reports weights of another width as shape mismatches by name', async () => {
    const pw = await pretrainedFromLayersModel('mobilenet_v1_0.75_224', modelJson(), shard, DIR);
    const e = (() => {
      try {
        createModel('mobilenet_v1_0.75_224', { weights: pw });
      } catch (err) {
        return err as Error;
      }
      throw new Error('expected an error');
    })();
    expect(e).toBeInstanceOf(StateDictError);
    expect(e.message).toMatch(/conv1\.weight: expected \[3,3,3,24\], got \[3,3,3,8\]/);
    pw.dispose();
  });

  it('refuses weights trained with another BatchNorm epsilon', async () => {
    const json = modelJson() as {
      modelTopology: { model_config: { config: { layers: Array<{ config: Record<string, unknown> }> } } };
    };
    for (const l of json.modelTopology.model_config.config.layers) if ('epsilon' in l.config) l.config.epsilon = 1e-5;
    const pw = await pretrainedFromLayersModel('mobilenet_v1_0.25_224', json, shard, DIR);
    expect(() => createModel('mobilenet_v1_0.25_224', { weights: pw })).toThrow(WeightsCompatibilityError);
    expect(() => createModel('mobilenet_v1_0.25_224', { weights: pw })).toThrow(
      /'conv1_bn' was trained with epsilon 0.00001 but mobilenet_v1_0.25_224 uses 0.001/,
    );
    pw.dispose();
  });
});

/**
 * TF.js layers-model exports: `model.json` (Keras topology + `weightsManifest`) and binary shards holding the
 * weights of each manifest group concatenated in manifest order (little-endian). Weights are named
 * `<keras layer>/<weight>` (`conv1/kernel`, `conv1_bn/moving_mean`); {@link kerasToStateDict} maps them onto
 * module names (`conv1.weight`, `conv1_bn.running_mean`) in native layout.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StateDict } from '../nn/module.js';
import { assertLittleEndian, float16ToFloat32, float32Copy, int32Copy } from './dtypes.js';
import { WeightsFormatError } from './errors.js';
import { decodeUtf8 } from './text.js';

const FORMAT = 'layers-model';

/** Quantization of a manifest entry (written by `tensorflowjs_converter --quantize_*`). */
export interface WeightQuantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  scale?: number;
  min?: number;
}

/** One weight of a manifest group. */
export interface WeightsManifestEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  quantization?: WeightQuantization;
}

/** One group of a manifest: shard files and the weights they hold, in order. */
export interface WeightsManifestGroup {
  paths: string[];
  weights: WeightsManifestEntry[];
}

/** The parts of a model.json this reader uses. */
export interface LayersModelJson {
  format?: string;
  modelTopology?: unknown;
  weightsManifest: WeightsManifestGroup[];
}

/** A Keras layer of the topology: name, class and config (e.g. `epsilon` of a BatchNormalization). */
export interface KerasLayerInfo {
  name: string;
  className: string;
  config: Record<string, unknown>;
}

/** The weights of a layers model (Keras names, native layouts) and its layer list. */
export interface LayersModelWeights {
  weights: StateDict;
  layers: KerasLayerInfo[];
}

/** Loads a shard by its manifest path (relative to model.json). */
export type ShardLoader = (path: string) => Uint8Array | Promise<Uint8Array>;

function fail(message: string): never {
  throw new WeightsFormatError(FORMAT, message);
}

const ENTRY_BYTES = { float32: 4, int32: 4, bool: 1 } as const;
const QUANT_BYTES = { uint8: 1, uint16: 2, float16: 2 } as const;

/** Parses and validates a model.json (text, bytes or an already parsed object). */
export function parseLayersModelJson(json: string | Uint8Array | object): LayersModelJson {
  let obj: unknown = json;
  if (typeof json === 'string' || json instanceof Uint8Array) {
    try {
      obj = JSON.parse(typeof json === 'string' ? json : decodeUtf8(json));
    } catch (e) {
      fail(`model.json is not valid JSON (${(e as Error).message}): truncated or corrupt`);
    }
  }
  const m = obj as { weightsManifest?: unknown };
  if (typeof m !== 'object' || m === null || !Array.isArray(m.weightsManifest)) {
    fail('model.json has no weightsManifest array: not a TF.js layers-model export');
  }
  (m.weightsManifest as unknown[]).forEach((g, gi) => {
    const group = g as Partial<WeightsManifestGroup>;
    if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) fail(`weightsManifest[${gi}] lacks paths/weights`);
    for (const p of group.paths) {
      if (typeof p !== 'string' || p === '' || p.startsWith('/') || p.includes('\\') || p.split('/').includes('..')) {
        fail(`weightsManifest[${gi}] has an unsafe shard path ${JSON.stringify(p)} (must be relative, without '..')`);
      }
    }
    for (const w of group.weights) {
      const e = w as Partial<WeightsManifestEntry>;
      if (typeof e.name !== 'string') fail(`weightsManifest[${gi}] has a weight without a name`);
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        fail(`weight '${e.name}' has an invalid shape ${JSON.stringify(e.shape)}`);
      }
      if (!(e.dtype! in ENTRY_BYTES)) fail(`weight '${e.name}' has unsupported dtype ${JSON.stringify(e.dtype)}`);
      if (e.quantization && !(e.quantization.dtype in QUANT_BYTES)) {
        fail(`weight '${e.name}' has unsupported quantization ${JSON.stringify(e.quantization.dtype)}`);
      }
    }
  });
  return m as LayersModelJson;
}

/** Every shard path of a model.json, in manifest order. */
export function layersModelShardPaths(json: LayersModelJson): string[] {
  return json.weightsManifest.flatMap((g) => g.paths);
}

/** The Keras layers listed in a model.json topology (functional or sequential). */
export function kerasLayers(json: LayersModelJson): KerasLayerInfo[] {
  const topo = json.modelTopology as { model_config?: unknown; config?: unknown } | undefined;
  const modelConfig = (topo?.model_config ?? topo) as { config?: unknown } | undefined;
  const config = modelConfig?.config;
  const layers = Array.isArray(config) ? config : (config as { layers?: unknown } | undefined)?.layers;
  if (!Array.isArray(layers)) return [];
  return layers.map((l: { class_name?: string; name?: string; config?: Record<string, unknown> }) => ({
    name: String(l.name ?? l.config?.name ?? ''),
    className: String(l.class_name ?? ''),
    config: l.config ?? {},
  }));
}

function entryBytes(e: WeightsManifestEntry): number {
  const numel = e.shape.reduce((a, d) => a * d, 1);
  return numel * (e.quantization ? QUANT_BYTES[e.quantization.dtype] : ENTRY_BYTES[e.dtype]);
}

function decodeEntry(e: WeightsManifestEntry, bytes: Uint8Array): tf.Tensor {
  const numel = e.shape.reduce((a, d) => a * d, 1);
  const q = e.quantization;
  if (q) {
    if (q.dtype === 'float16') return tf.tensor(float16ToFloat32(bytes, numel), e.shape, 'float32');
    const scale = q.scale ?? 1;
    const min = q.min ?? 0;
    const raw = q.dtype === 'uint8' ? bytes.subarray(0, numel) : new Uint16Array(bytes.slice(0, numel * 2).buffer);
    const vals = new Float32Array(numel);
    for (let i = 0; i < numel; i++) vals[i] = raw[i]! * scale + min;
    return e.dtype === 'int32'
      ? tf.tensor(Int32Array.from(vals, Math.round), e.shape, 'int32')
      : tf.tensor(vals, e.shape, 'float32');
  }
  if (e.dtype === 'float32') return tf.tensor(float32Copy(bytes, numel), e.shape, 'float32');
  if (e.dtype === 'int32') return tf.tensor(int32Copy(bytes, numel), e.shape, 'int32');
  return tf.tensor(Uint8Array.from(bytes.subarray(0, numel)), e.shape, 'bool');
}

/**
 * Reads the weights of a TF.js layers model: validates model.json, loads each group's shards through
 * `loadShard`, checks that their bytes match what the manifest declares (a truncated or missing shard is an
 * error naming the files), and decodes every weight (caller owns the tensors).
 */
export async function readLayersModel(
  modelJson: string | Uint8Array | object,
  loadShard: ShardLoader,
): Promise<LayersModelWeights> {
  assertLittleEndian(FORMAT);
  const json = parseLayersModelJson(modelJson);
  const weights: StateDict = new Map();
  try {
    for (const [gi, group] of json.weightsManifest.entries()) {
      const need = group.weights.reduce((a, e) => a + entryBytes(e), 0);
      const parts: Uint8Array[] = [];
      for (const p of group.paths) {
        let b: Uint8Array;
        try {
          b = await loadShard(p);
        } catch (e) {
          throw new WeightsFormatError(FORMAT, `cannot read shard '${p}': ${(e as Error).message}`, { cause: e });
        }
        parts.push(b);
      }
      const have = parts.reduce((a, b) => a + b.length, 0);
      if (have !== need) {
        const sizes = group.paths.map((p, i) => `${p} (${parts[i]!.length} bytes)`).join(', ');
        fail(
          `weight group ${gi + 1} needs ${need} bytes but its shards hold ${have}: ${sizes}. ` +
            'A shard is truncated or belongs to another model; download the files again',
        );
      }
      const buf = parts.length === 1 ? parts[0]! : concat(parts, have);
      let off = 0;
      for (const e of group.weights) {
        const n = entryBytes(e);
        if (weights.has(e.name)) fail(`weight '${e.name}' appears twice in the manifest`);
        weights.set(e.name, decodeEntry(e, buf.subarray(off, off + n)));
        off += n;
      }
    }
  } catch (e) {
    tf.dispose([...weights.values()]);
    throw e;
  }
  return { weights, layers: kerasLayers(json) };
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let p = 0;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/** Keras weight names -> PyTorch parameter names. */
const KERAS_PARAM_NAMES: Record<string, string> = {
  kernel: 'weight',
  depthwise_kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
};

/** `conv1/kernel` (or `model/conv1/kernel:0`) -> `conv1.weight`; unknown weight kinds keep their own name. */
export function kerasWeightKey(name: string): string {
  const parts = name.replace(/:\d+$/, '').split('/');
  const param = parts[parts.length - 1]!;
  const layer = parts.length >= 2 ? parts[parts.length - 2]! : '';
  return `${layer}.${KERAS_PARAM_NAMES[param] ?? param}`;
}

/**
 * Renames Keras weights to module state-dict keys (`<layer>.<param>`), keeping the tensors (same objects: the
 * result shares ownership with the input map). Load it with `loadStateDict(sd, { layout: 'native' })`.
 */
export function kerasToStateDict(weights: StateDict): StateDict {
  const out: StateDict = new Map();
  for (const [name, t] of weights) {
    const key = kerasWeightKey(name);
    if (out.has(key)) throw new WeightsFormatError(FORMAT, `weights '${name}' and another map to the same key '${key}'`);
    out.set(key, t);
  }
  return out;
}

/** BatchNormalization epsilons of a Keras topology, by layer name. */
export function kerasBatchNormEps(layers: KerasLayerInfo[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of layers) {
    if (l.className === 'BatchNormalization' && typeof l.config.epsilon === 'number') out.set(l.name, l.config.epsilon);
  }
  return out;
}

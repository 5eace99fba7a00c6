import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR } from '../../../../test-support/shared.js';
import { useWasmBackend } from '../models/testing.js';
import { WeightsFormatError } from './errors.js';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from './safetensors.js';

/** Builds a safetensors file from a header object and raw data. */
function build(header: object, data: Uint8Array, headerLen?: bigint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLen ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('safetensors', () => {
  beforeAll(useWasmBackend);

  it('decodes F16, BF16 and I64 (unaligned offsets included)', async () => {
    const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00]).buffer);
    const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc040]).buffer); // 1, -3
    const i64 = new Uint8Array(new BigInt64Array([5n, -1n]).buffer);
    const data = new Uint8Array(1 + f16.length + bf16.length + i64.length);
    data.set(f16, 1);
    data.set(bf16, 1 + f16.length);
    data.set(i64, 1 + f16.length + bf16.length);
    const a = 1;
    const b = a + f16.length;
    const c = b + bf16.length;
    const file = build(
      {
        __metadata__: { format: 'pt' },
        h: { dtype: 'F16', shape: [2, 3], data_offsets: [a, b] },
        b: { dtype: 'BF16', shape: [2], data_offsets: [b, c] },
        n: { dtype: 'I64', shape: [2], data_offsets: [c, c + 16] },
      },
      data,
    );
    expect(readSafetensorsHeader(file).metadata).toEqual({ format: 'pt' });
    const sd = readSafetensors(file);
    expect(await sd.get('h')!.array()).toEqual([
      [1, -2, 65504],
      [2 ** -24, -0, Infinity],
    ]);
    expect(await sd.get('b')!.array()).toEqual([1, -3]);
    expect(sd.get('n')!.dtype).toBe('int32');
    expect(await sd.get('n')!.array()).toEqual([5, -1]);
    tf.dispose([...sd.values()]);
  });

  it('round-trips through writeSafetensors', async () => {
    const src = new Map<string, tf.Tensor>([
      [
        'w',
        tf.tensor2d([
          [1.5, -2],
          [3, 4],
        ]),
      ],
      ['i', tf.tensor1d([1, 2, 3], 'int32')],
      ['flag', tf.tensor1d([true, false], 'bool')],
    ]);
    const bytes = await writeSafetensors(src, { note: 'x' });
    expect((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8).toBe(0);
    const back = readSafetensors(bytes);
    for (const [k, t] of src) {
      expect(back.get(k)!.dtype).toBe(t.dtype);
      expect(await back.get(k)!.array()).toEqual(await t.array());
    }
    expect(readSafetensorsHeader(bytes).metadata).toEqual({ note: 'x' });
    tf.dispose([...src.values(), ...back.values()]);
  });

  it('reads the torchvision fixture header (float16, torch names)', () => {
    const bytes = new Uint8Array(readFileSync(join(SHARED_DIR, 'fixtures', 'torchvision-resnet18', 'resnet18.f16.safetensors')));
    const h = readSafetensorsHeader(bytes);
    const conv1 = h.tensors.find((t) => t.name === 'conv1.weight')!;
    expect(conv1).toMatchObject({ dtype: 'F16', shape: [64, 3, 7, 7] });
    // truncated: the header still parses but the data section is short
    const e = thrown(() => readSafetensors(bytes.subarray(0, bytes.length - 1000)));
    expect(e).toBeInstanceOf(WeightsFormatError);
    expect(e.message).toMatch(/claims bytes .* which holds only .*truncated or corrupt/);
  });

  it('fails fast on absurd header sizes and inconsistent entries', () => {
    const data = new Uint8Array(8);
    const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    expect(thrown(() => readSafetensors(build(ok, data, 1n << 60n))).message).toMatch(
      /header claims 1152921504606846976 bytes but only \d+ follow.*truncated or not a safetensors file/,
    );
    expect(thrown(() => readSafetensors(new Uint8Array(5))).message).toMatch(/file too short/);
    expect(thrown(() => readSafetensors(build({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data))).message).toMatch(
      /tensor 'w' \(F32 \[3\]\) needs 12 bytes but its data_offsets span 8/,
    );
    expect(
      thrown(() => readSafetensors(build({ w: { dtype: 'F32', shape: [1e12, 1e12], data_offsets: [0, 8] } }, data))).message,
    ).toMatch(/needs .* bytes but its data_offsets span 8/);
    expect(thrown(() => readSafetensors(build({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, data))).message).toMatch(
      /unsupported dtype "C64"/,
    );
    expect(
      thrown(() => readSafetensors(build({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 8] } }, data))).message,
    ).toMatch(/invalid shape/);
    const garbage = build({}, data);
    garbage[8] = 0x5b; // '[' breaks the JSON
    expect(thrown(() => readSafetensors(garbage)).message).toMatch(/not valid UTF-8 JSON|not a JSON object/);
  });
});

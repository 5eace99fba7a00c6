/**
 * The seam for native convolutions under the wasm SIMD engine: a registered provider gets the ops it accepts, with
 * operands in tfjs' layouts and its result used as the kernel's; a failing provider costs nothing but a warning
 * (the engine runs the op, and every later one). The real provider (ONNX Runtime) is tested in @fastts/node-gpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { relativeError } from '../../../../test-support/numeric.js';
import {
  nativeConvolutions,
  setNativeConvolutions,
  type NativeConvCall,
  type NativeConvolutions,
} from './native-convolutions.js';
import { registerMissingKernels } from './register.js';

/** A 1×1 forward convolution in plain JavaScript, as a provider would compute it natively. */
function pointwise(call: NativeConvCall): void {
  const { inChannels: ci, outChannels: co } = call.geometry;
  for (let p = 0; p < call.out.length / co; p++) {
    for (let o = 0; o < co; o++) {
      let s = call.bias ? call.bias[o]! : 0;
      for (let c = 0; c < ci; c++) s += call.a[p * ci + c]! * call.b[c * co + o]!;
      call.out[p * co + o] = call.fusion.act === 1 ? Math.max(0, s) : s;
    }
  }
}

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  registerMissingKernels('wasm');
});

afterEach(() => {
  setNativeConvolutions(null);
  vi.restoreAllMocks();
});

const inputs = () => ({
  x: tf.randomNormal([2, 5, 5, 16], 0, 1, 'float32', 1) as tf.Tensor4D,
  w: tf.randomNormal([1, 1, 16, 8], 0, 1, 'float32', 2) as tf.Tensor4D,
  bias: tf.randomNormal([8], 0, 1, 'float32', 3) as tf.Tensor1D,
});

describe('native convolutions seam', () => {
  it('hands the provider the ops it accepts, in tfjs layouts, and returns its result', () => {
    const { x, w, bias } = inputs();
    const engine = tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'valid', bias, activation: 'relu' });
    const calls: string[] = [];
    const provider: NativeConvolutions = {
      name: 'js',
      accepts: (op, g) => op === 'forward' && g.filterHeight === 1,
      run: (call) => {
        calls.push(`${call.op} ${call.fusion.bias} ${call.fusion.act}`);
        pointwise(call);
      },
    };
    setNativeConvolutions(provider);
    const native = tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'valid', bias, activation: 'relu' });
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: engine }, {
      strides: [1, 1],
      pad: 'valid',
      dataFormat: 'NHWC',
      filterShape: w.shape,
    } as never) as tf.Tensor;
    expect(calls).toEqual(['forward true 1']); // the weight gradient was not accepted
    expect(relativeError(native.dataSync() as Float32Array, engine.dataSync() as Float32Array)).toBeLessThan(1e-5);
    expect(dw.shape).toEqual([1, 1, 16, 8]);
    tf.dispose([x, w, bias, engine, native, dw]);
  });

  it('runs the op on the engine when the provider fails, warns once and removes it', () => {
    const { x, w } = inputs();
    const expected = tf.conv2d(x, w, 1, 'valid');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    let runs = 0;
    setNativeConvolutions({
      name: 'broken',
      accepts: () => true,
      run: () => {
        runs++;
        throw new Error('no session');
      },
    });
    const y = tf.conv2d(x, w, 1, 'valid');
    const again = tf.conv2d(x, w, 1, 'valid');
    expect(relativeError(y.dataSync() as Float32Array, expected.dataSync() as Float32Array)).toBe(0);
    expect(relativeError(again.dataSync() as Float32Array, expected.dataSync() as Float32Array)).toBe(0);
    expect(runs).toBe(1);
    expect(nativeConvolutions()).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/native convolutions \(broken\) failed.*no session/);
    tf.dispose([x, w, expected, y, again]);
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { nativeConvolutions, setNativeConvolutions } from '@fastts/core/kernels';
import type { OrtConvolutions } from '../onnx/native-convolutions.js';
import { BackendSetupError } from './errors.js';
import { backendCandidates, setupBackend } from './setup.js';

describe('setupBackend', () => {
  it('rejects unknown backends and bad thread counts with a clear error', async () => {
    await expect(setupBackend({ backend: 'tpu', log: null })).rejects.toThrow(BackendSetupError);
    await expect(setupBackend({ backend: 'tpu', log: null })).rejects.toThrow(
      /unknown backend 'tpu': use one of auto, cuda, webgpu, wasm, cpu/,
    );
    await expect(setupBackend({ backend: 'wasm', threads: 0, log: null })).rejects.toThrow(
      /threads must be an integer from 1 to 8, got 0/,
    );
    await expect(setupBackend({ backend: 'wasm', threads: 2.5, log: null })).rejects.toThrow(BackendSetupError);
  });

  it('never offers the pure-JS cpu backend to auto', () => {
    const names = backendCandidates().map((c) => c.name);
    expect(names).not.toContain('cpu');
    expect(names[names.length - 1]).toBe('wasm');
  });

  it('auto falls back to multi-threaded wasm here, says so, and can train a conv', async () => {
    const lines: string[] = [];
    const report = await setupBackend({ threads: 2, log: (l) => lines.push(l) });
    // No GPU path works on this machine: both are reported as skipped, with the reason.
    expect(report.backend).toBe('wasm');
    expect(report.skipped.map((s) => s.backend)).toEqual(['cuda', 'webgpu']);
    expect(report.skipped.every((s) => s.reason.length > 10)).toBe(true);
    expect(report.threads).toBe(2);
    expect(tf.getBackend()).toBe('wasm');
    expect(report.kernels.added).toContain('Conv2DBackpropFilter');
    expect(lines).toHaveLength(1);
    // onnxruntime-node is installed here: ONNX Runtime's GEMMs take the engine's 1×1 and strided convolutions
    expect(report.nativeConvolutions).toBe('onnxruntime');
    expect(lines[0]).toMatch(
      /^fastts: backend wasm \(XNNPACK \+ SIMD, 2 threads\), native convolutions \(onnxruntime\) on \d+ CPU cores?/,
    );
    const g = tf.tidy(() => {
      const x = tf.randomNormal([2, 16, 16, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
      const w = tf.randomNormal([3, 3, 8, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
      return tf.grad((ww: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, ww as tf.Tensor4D, 2, 'same'))))(w);
    });
    expect(g.shape).toEqual([3, 3, 8, 4]);
    expect(Number.isFinite((await g.data())[0])).toBe(true);
    g.dispose();
    // a convolution the native provider takes, on this multi-threaded backend (shared memory: operands copied),
    // gives XNNPACK's gradient
    const grads = (): Float32Array =>
      tf.tidy(() => {
        const x = tf.randomNormal([2, 16, 16, 16], 0, 1, 'float32', 3) as tf.Tensor4D;
        const w = tf.randomNormal([3, 3, 16, 8], 0, 1, 'float32', 4) as tf.Tensor4D;
        const f = (xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same')));
        const [gx, gw] = tf.grads(f)([x, w]);
        return tf.concat([tf.reshape(gx!, [-1]), tf.reshape(gw!, [-1])]).dataSync() as Float32Array;
      });
    const provider = nativeConvolutions() as OrtConvolutions;
    setNativeConvolutions(null);
    const xnnpack = grads();
    setNativeConvolutions(provider);
    provider.clear();
    const native = grads();
    expect(provider.size).toBeGreaterThan(0);
    const scale = xnnpack.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(native.every((v, i) => Math.abs(v - xnnpack[i]!) <= 1e-4 * scale)).toBe(true);
  });

  it('refuses to change the thread count under live tensors', async () => {
    const keep = tf.ones([2]);
    await expect(setupBackend({ backend: 'wasm', threads: 1, log: null })).rejects.toThrow(/before creating any tensor/);
    keep.dispose();
  });

  it('runs the pure-JS cpu backend only when asked for by name', async () => {
    const report = await setupBackend({ backend: 'cpu', log: null });
    expect(report.backend).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(report.description).toMatch(/slow/);
  });
});

import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SWIFTSHADER_ICD, WEBGPU_TF_BACKEND, tryDawnWebgpu, type DawnModule } from './dawn.js';
import { WebGpuUnavailableError } from './errors.js';

function fakeDawn(adapter: object | null): () => Promise<DawnModule> {
  return async () => ({ create: () => ({ requestAdapter: async () => adapter }), globals: {} });
}

const swiftshaderInfo = {
  vendor: 'google',
  architecture: 'swiftshader',
  device: 'swiftshader-device-subzero-',
  description: 'SwiftShader driver 5.0.0',
  isFallbackAdapter: true,
};

describe('tryDawnWebgpu with fakes', () => {
  beforeEach(async () => {
    await tf.setBackend('cpu');
  });

  it('reports a missing webgpu package with how to install it', async () => {
    const absent = () =>
      Promise.reject(
        Object.assign(new Error("Cannot find package 'webgpu' imported from /app/x.js"), {
          code: 'ERR_MODULE_NOT_FOUND',
        }),
      );
    const r = await tryDawnWebgpu({ loader: absent });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(WebGpuUnavailableError);
    expect(r.error).toMatchObject({ missing: 'module', backend: 'webgpu' });
    expect(r.error.message).toContain('npm i webgpu');
  });

  it('without a Vulkan driver: says what to install and how to get a software adapter', async () => {
    const r = await tryDawnWebgpu({ loader: fakeDawn(null) });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ missing: 'adapter' });
    expect(r.error.message).toContain('libvulkan1');
    expect(r.error.message).toContain(`VK_ICD_FILENAMES=${SWIFTSHADER_ICD}`);
  });

  it('auto (requireHardware) refuses a fallback adapter and registers nothing', async () => {
    const r = await tryDawnWebgpu({
      loader: fakeDawn({ info: swiftshaderInfo }),
      requireHardware: true,
      hasGpuDevice: () => true,
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ missing: 'fallback-adapter' });
    expect(r.error.message).toContain('SwiftShader driver 5.0.0');
    expect(r.adapter?.isFallbackAdapter).toBe(true);
    expect(tf.findBackendFactory(WEBGPU_TF_BACKEND)).toBeNull();
    expect(tf.getBackend()).toBe('cpu');
  });

  it('auto on a machine without GPU device nodes does not load Dawn at all', async () => {
    let loaded = false;
    const r = await tryDawnWebgpu({
      loader: async () => {
        loaded = true;
        return fakeDawn(null)();
      },
      requireHardware: true,
      hasGpuDevice: () => false,
    });
    expect(loaded).toBe(false);
    expect(r.ok ? null : r.error).toMatchObject({ missing: 'adapter' });
    expect(r.ok ? '' : r.error.message).toContain('/dev/dri/renderD*');
  });

  it('reads the older adapter.isFallbackAdapter spelling too', async () => {
    const { vendor, architecture } = swiftshaderInfo;
    const r = await tryDawnWebgpu({
      loader: fakeDawn({ info: { vendor, architecture }, isFallbackAdapter: true }),
      requireHardware: true,
      hasGpuDevice: () => true,
    });
    expect(r.ok ? null : r.error).toMatchObject({ missing: 'fallback-adapter' });
  });
});

// The real Dawn on Chromium's SwiftShader Vulkan driver (CI installs chromium).
describe.runIf(existsSync(SWIFTSHADER_ICD))('tryDawnWebgpu on SwiftShader', () => {
  const saved = process.env.VK_ICD_FILENAMES;
  afterAll(async () => {
    if (saved === undefined) delete process.env.VK_ICD_FILENAMES;
    else process.env.VK_ICD_FILENAMES = saved;
    await tf.setBackend('cpu');
  });

  it('auto refuses it; an explicit request runs a conv that matches the cpu backend', async () => {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    const auto = await tryDawnWebgpu({ requireHardware: true, hasGpuDevice: () => true });
    expect(auto.ok ? null : auto.error).toMatchObject({ missing: 'fallback-adapter' });
    expect(auto.adapter).toMatchObject({ architecture: 'swiftshader', isFallbackAdapter: true });

    const r = await tryDawnWebgpu();
    expect(r).toMatchObject({ ok: true, backend: 'webgpu', tfBackend: 'webgpu' });
    expect(r.ok && r.description).toContain('software fallback adapter');
    expect(tf.getBackend()).toBe('webgpu');

    const xs = Float32Array.from({ length: 8 * 8 * 4 }, (_, i) => Math.sin(i));
    const ws = Float32Array.from({ length: 3 * 3 * 4 * 5 }, (_, i) => Math.cos(i * 0.37));
    const convOn = async (backend: string) => {
      await tf.setBackend(backend);
      const y = tf.conv2d(tf.tensor4d(xs, [1, 8, 8, 4]), tf.tensor4d(ws, [3, 3, 4, 5]), 1, 'same');
      const data = await y.data();
      y.dispose();
      return data;
    };
    const gpu = await convOn('webgpu');
    const cpu = await convOn('cpu');
    expect(gpu.length).toBe(8 * 8 * 5);
    for (let i = 0; i < cpu.length; i++) expect(gpu[i]).toBeCloseTo(cpu[i]!, 4);
  });
});

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CUDA_LIBRARIES, hasGpuDeviceNode, probeCudaSystem, type CudaSystemProbe } from './cudaProbe.js';
import { CUDA_TF_BACKEND, explainCudaLoadError, tryCuda } from './cuda.js';
import { CudaUnavailableError } from './errors.js';

/** A stand-in for tfjs-node-gpu's NodeJSKernelBackend: only what tryCuda reads. */
class FakeNodeBackend {
  constructor(readonly isUsingGpuDevice: boolean) {}
  dispose(): void {}
}

/** Loads like tfjs-node-gpu does: registers the `tensorflow` backend and makes it active. */
function fakeModule(usingGpu: boolean): () => Promise<unknown> {
  return async () => {
    tf.registerBackend(CUDA_TF_BACKEND, () => new FakeNodeBackend(usingGpu) as unknown as tf.KernelBackend, 3);
    await tf.setBackend(CUDA_TF_BACKEND);
    return {};
  };
}

const noDriver: CudaSystemProbe = { driver: null, gpus: [], missingLibraries: [...CUDA_LIBRARIES] };
const h100NoCudnn: CudaSystemProbe = {
  driver: 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.05',
  gpus: ['NVIDIA H100 80GB HBM3'],
  missingLibraries: ['libcudart.so.11.0', 'libcudnn.so.8'],
};

describe('tryCuda', () => {
  beforeEach(async () => {
    await tf.setBackend('cpu');
  });
  afterEach(() => {
    if (tf.findBackendFactory(CUDA_TF_BACKEND) !== null) tf.removeBackend(CUDA_TF_BACKEND);
  });

  it('reports a missing module with how to install it and allow its install script', async () => {
    const absent = () =>
      Promise.reject(
        Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node-gpu' imported from /app/x.js"), {
          code: 'ERR_MODULE_NOT_FOUND',
        }),
      );
    const r = await tryCuda({ loader: absent, probe: () => noDriver });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(CudaUnavailableError);
    expect(r.error).toMatchObject({ missing: 'module', backend: 'cuda' });
    expect(r.error.message).toContain('npm i @tensorflow/tfjs-node-gpu');
    expect(r.error.message).toContain('npm install-scripts approve @tensorflow/tfjs-node-gpu');
    expect(tf.findBackendFactory(CUDA_TF_BACKEND)).toBeNull();
  });

  it('with a module that sees no GPU: removes its backend and says the driver is missing', async () => {
    const r = await tryCuda({ loader: fakeModule(false), probe: () => noDriver });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ missing: 'driver' });
    expect(r.error.message).toMatch(/no NVIDIA GPU is visible/);
    expect(tf.findBackendFactory(CUDA_TF_BACKEND)).toBeNull();
    // The CPU path can take over.
    expect(await tf.setBackend('cpu')).toBe(true);
  });

  it('with a GPU but no CUDA 11.2 / cuDNN 8.1: names the missing libraries', async () => {
    const r = await tryCuda({ loader: fakeModule(false), probe: () => h100NoCudnn });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ missing: 'cuda-libraries' });
    expect(r.error.message).toContain('libcudnn.so.8');
    expect(r.error.message).toContain('libcudart.so.11.0');
    expect(r.error.message).toContain('CUDA 11.2');
    expect(r.error.message).toContain('NVIDIA H100 80GB HBM3');
  });

  it('picks CUDA when the module sees a GPU, and says which', async () => {
    const r = await tryCuda({ loader: fakeModule(true), probe: () => ({ ...h100NoCudnn, missingLibraries: [] }) });
    expect(r).toMatchObject({ ok: true, backend: 'cuda', tfBackend: 'tensorflow' });
    if (!r.ok) return;
    expect(r.description).toContain('CUDA on NVIDIA H100 80GB HBM3');
    expect(tf.getBackend()).toBe('tensorflow');
  });

  it('under auto, does not load the module on a machine without an NVIDIA driver or device', async () => {
    let loaded = false;
    const r = await tryCuda({
      loader: async () => {
        loaded = true;
      },
      probe: () => noDriver,
      skipWithoutGpu: true,
    });
    expect(loaded).toBe(false);
    expect(r.ok ? null : r.error).toMatchObject({ missing: 'driver' });
  });

  it('classifies the real load errors of tfjs-node-gpu', () => {
    const binding = explainCudaLoadError(
      new Error(
        'The Node.js native addon module (tfjs_binding.node) can not be found at path: /x/lib/napi-v8/tfjs_binding.node.',
      ),
    );
    expect(binding).toMatchObject({ missing: 'binding' });
    expect(binding.message).toContain('npm rebuild @tensorflow/tfjs-node-gpu');
    expect(
      explainCudaLoadError(new Error('libtensorflow.so.2: cannot open shared object file: No such file or directory')),
    ).toMatchObject({ missing: 'libtensorflow' });
    const cudart = explainCudaLoadError(new Error('libcudart.so.11.0: cannot open shared object file'));
    expect(cudart).toMatchObject({ missing: 'cuda-libraries' });
    expect(cudart.message).toContain('cuDNN 8.1');
    expect(explainCudaLoadError(new Error('boom'))).toMatchObject({ missing: 'load-failed' });
  });

  it('on this machine (package installed, install script denied): reports the missing native addon', async () => {
    // The real default loader: @tensorflow/tfjs-node-gpu is an optionalDependency whose install script never runs.
    const r = await tryCuda({ probe: () => noDriver });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(['binding', 'module']).toContain((r.error as CudaUnavailableError).missing);
    expect(tf.findBackendFactory(CUDA_TF_BACKEND)).toBeNull();
  });
});

describe('hasGpuDeviceNode', () => {
  it('looks for /dev/nvidiaN and /dev/dri/renderD* on Linux only', () => {
    const dev = mkdtempSync(join(tmpdir(), 'fastts-dev-'));
    expect(hasGpuDeviceNode('linux', dev)).toBe(false);
    writeFileSync(join(dev, 'nvidiactl'), '');
    expect(hasGpuDeviceNode('linux', dev)).toBe(false);
    writeFileSync(join(dev, 'nvidia0'), '');
    expect(hasGpuDeviceNode('linux', dev)).toBe(true);
    const dri = mkdtempSync(join(tmpdir(), 'fastts-dev-'));
    mkdirSync(join(dri, 'dri'));
    writeFileSync(join(dri, 'dri', 'renderD128'), '');
    expect(hasGpuDeviceNode('linux', dri)).toBe(true);
    expect(hasGpuDeviceNode('darwin', join(dev, 'none'))).toBe(true);
  });
});

describe('probeCudaSystem', () => {
  it('finds CUDA libraries on LD_LIBRARY_PATH and lists the ones that are not there', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fastts-cuda-'));
    const present = CUDA_LIBRARIES.filter((l) => l !== 'libcudnn.so.8' && l !== 'libcufft.so.10');
    for (const lib of present) writeFileSync(join(dir, lib), '');
    const probe = probeCudaSystem({ LD_LIBRARY_PATH: dir });
    for (const lib of present) expect(probe.missingLibraries).not.toContain(lib);
    // This machine has no CUDA install; on one that does, the system copies would be found instead.
    const systemHas = probeCudaSystem({}).missingLibraries;
    for (const lib of ['libcudnn.so.8', 'libcufft.so.10']) {
      expect(probe.missingLibraries.includes(lib)).toBe(systemHas.includes(lib));
    }
  });
});

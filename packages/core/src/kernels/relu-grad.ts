/** `FasttsReluGrad` on the wasm SIMD engine: ReLU's gradient in one pass (see relu-grad-config.ts). */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { simdConvEngine } from './simd/conv-engine.js';
import { defineJob } from './simd/kernel-job.js';
import { isWasmBackend } from './simd/wasm-heap.js';
import { RELU_GRAD } from './relu-grad-config.js';

/** Floats per job item (a multiple of 4). */
const BLOCK = 1 << 16;

const reluGradJob = defineJob('relu.grad', ['dy', 'x', 'out', 'n'], (h, a, item) => {
  const begin = item * BLOCK;
  const count = Math.min(BLOCK, a.n - begin);
  const n4 = count >>> 2;
  h.kernels.relugrad(a.dy + 4 * begin, a.x + 4 * begin, a.out + 4 * begin, n4);
  if (n4 * 4 < count) {
    const f32 = h.views().f32;
    for (let i = begin + n4 * 4; i < begin + count; i++) {
      f32[(a.out >>> 2) + i] = f32[(a.x >>> 2) + i]! > 0 ? f32[(a.dy >>> 2) + i]! : 0;
    }
  }
});

/** `FasttsReluGrad` on the wasm SIMD engine. */
export function simdReluGradKernel(backendName: string): KernelConfig {
  const kernelFunc = (({ inputs, backend }) => {
    if (!isWasmBackend(backend)) throw new Error(`${RELU_GRAD} runs on the wasm backend only`);
    const { dy, x } = inputs as { dy: TensorInfo; x: TensorInfo };
    const heap = simdConvEngine(backend).heap;
    const out = backend.makeOutput([...x.shape], 'float32');
    const n = x.shape.reduce((p, q) => p * q, 1);
    if (n > 0) heap.parallel(reluGradJob, { dy: heap.ptr(dy), x: heap.ptr(x), out: heap.ptr(out), n }, Math.ceil(n / BLOCK));
    return out;
  }) as KernelFunc;
  return { kernelName: RELU_GRAD, backendName, kernelFunc };
}

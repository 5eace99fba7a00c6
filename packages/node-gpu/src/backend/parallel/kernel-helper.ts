/**
 * A kernel helper thread (see kernel-threads.ts): runs the SIMD engine's parallel jobs on the shared wasm heap it is
 * given, until the pool quits. It loads @fastts/core (whose modules define the jobs) and blocks in its job loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runKernelHelper, type KernelHelperData } from '@fastts/core/kernels';
import { enableRelaxedSimd } from '../wasm.js';

// the same kernels as the replica's thread: fused multiply-add where the replica has it (same rounding)
enableRelaxedSimd();
runKernelHelper(workerData as KernelHelperData, () => parentPort?.postMessage('ready'));

/**
 * `backend`: which tfjs backend runs the tensors on Node (GPU paths first, then the fast CPU path: wasm with
 * XNNPACK + SIMD on every core), and data-parallel training across worker threads.
 */
export { setupBackend, activeBackend, backendCandidates, wasmCandidate, cpuCandidate, defaultThreads } from './setup.js';
export type { SetupBackendOptions, BackendReport, BackendCandidate, NodeBackendName } from './setup.js';
export { registerWasmBackend, wasmThreads, MAX_WASM_THREADS } from './wasm.js';
export { BackendSetupError, DataParallelError } from './errors.js';
export * from './gpu/index.js';
export * from './parallel/index.js';

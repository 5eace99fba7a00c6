/**
 * `@fastts/node-gpu/platform` — the Node platform's parts, for the CLI, tests and advanced users: how it binds into
 * core (`bindNodePlatform`, `configure`), Ctrl-C handling, the storage, the downloader and archive tools behind
 * `untarData`, the image decoder, the backend candidates (CUDA, Dawn WebGPU, wasm) and their probes, the
 * data-parallel trainer on worker threads, and ONNX Runtime's loader. The root export (`@fastts/node-gpu`) has the
 * user-facing API.
 * @packageDocumentation
 */
import './bind.js';

export { configure, nodeDefaults, bindNodePlatform, type NodeDefaults } from './binding.js';
export { nodeStorage, writeFileAtomic } from './storage.js';
export { terminalReporter, type TerminalReporterOptions, type BarStream } from './terminal-reporter.js';
export { handleInterrupts, exitCodeFor, fitInterruptScope, type InterruptHandle, type InterruptOptions } from './interrupts.js';
export * from '../data/index.js';
export * from '../weights/index.js';
export * from '../datasets/index.js';
export * from '../backend/index.js';
export * from '../onnx/index.js';

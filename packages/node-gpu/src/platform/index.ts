/**
 * The Node platform's defaults, bound into core when `@fastts/node-gpu` is imported: storage on disk, fast.ai's
 * terminal output, Ctrl-C handling, the lazily chosen backend, pretrained weights and data-parallel training.
 */
export { configure, nodeDefaults, bindNodePlatform, type NodeDefaults } from './binding.js';
export { nodeStorage, writeFileAtomic } from './storage.js';
export { terminalReporter, type TerminalReporterOptions, type BarStream } from './terminal-reporter.js';
export { handleInterrupts, exitCodeFor, fitInterruptScope, type InterruptHandle, type InterruptOptions } from './interrupts.js';

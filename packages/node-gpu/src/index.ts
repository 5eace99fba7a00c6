/**
 * @fastts/node-gpu — the Node platform for fastts: backend choice (CUDA through @tensorflow/tfjs-node-gpu when it
 * is installed and works, otherwise the fast CPU path), folders on disk, image decoding, the weight cache.
 * Re-exports all of @fastts/core, so a Node app imports everything from here.
 *
 * Importing it binds the Node platform into core (see `configure`): the backend is chosen on first use, pretrained
 * weights come from the cache (downloaded on first use), learners save to disk, training runs data-parallel on the
 * wasm backend, fits print fast.ai's progress bar and epoch table, and Ctrl-C stops a fit with a checkpoint.
 * @packageDocumentation
 */
import { bindNodePlatform } from './platform/binding.js';

export * from '@fastts/core';
export * from './data/index.js';
export * from './weights/index.js';
export * from './backend/index.js';
export * from './platform/index.js';
export * from './onnx/index.js';
export * from './datasets/index.js';

bindNodePlatform();

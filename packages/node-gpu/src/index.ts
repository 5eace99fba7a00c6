/**
 * @fastts/node-gpu — the Node platform for fastts: backend choice (CUDA through @tensorflow/tfjs-node-gpu when it
 * is installed and works, otherwise the fast CPU path), folders on disk, image decoding, the weight cache.
 * Re-exports all of @fastts/core, so a Node app imports everything from here.
 * @packageDocumentation
 */
export * from '@fastts/core';
export * from './data/index.js';
export * from './weights/index.js';
export * from './backend/index.js';
export * from './onnx/index.js';

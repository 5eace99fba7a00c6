/**
 * @fastts/core — the fast.ai image-classification workflow on @tensorflow/tfjs-core, backend-agnostic.
 * No Node `fs`, no DOM: platforms (@fastts/node-gpu, @fastts/webgpu) hand it decoded pixels and storage functions.
 * @packageDocumentation
 */
import './gradients.js';

export { VERSION } from './version.js';
export * from './data/index.js';
export * from './transforms/index.js';
export * from './render/index.js';
export * from './nn/index.js';
export * from './models/index.js';
export * from './weights/index.js';
export * from './kernels/index.js';
export * from './learner/index.js';
export * from './interpret/index.js';
export * from './onnx/index.js';

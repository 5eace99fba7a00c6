/**
 * Registers tfjs-core's gradient functions into the (process-global) gradient registry.
 * tfjs-core's Node entry point ships without them; see tsup.config.ts for how they are bundled.
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients';
// Chained ops (`x.sum()`, `x.mul(y)`): also absent from the Node entry, registered for API users' convenience.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { registerGradient } from '@tensorflow/tfjs-core';
import { reluGradConfig } from './kernels/relu-grad-config.js';

// ReLU's gradient as one kernel where the backend has it (after tfjs-core's, which it replaces)
registerGradient(reluGradConfig);

import { defineConfig } from 'tsup';

// tfjs-core's Node entry registers no gradients and its ESM files use extension-less imports that plain Node
// cannot resolve. We bundle `register_all_gradients` (and the tfjs-core internals it pulls in) into our own
// output, while every import of the bare `@tensorflow/tfjs-core` stays external: the engine, kernel and gradient
// registries are process-global in tfjs, so the bundled gradient code registers into the one shared engine.
export default defineConfig({
  // The root (fast.ai's user API) and the subpaths platforms and advanced users import (see package.json exports).
  entry: {
    index: 'src/index.ts',
    platform: 'src/platform.ts',
    nn: 'src/nn/index.ts',
    models: 'src/models/index.ts',
    weights: 'src/weights/index.ts',
    transforms: 'src/transforms/index.ts',
    kernels: 'src/kernels/index.ts',
    'kernels/webgpu': 'src/kernels/webgpu/index.ts',
    onnx: 'src/onnx/index.ts',
    runs: 'src/runs/index.ts',
  },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  external: ['@tensorflow/tfjs-core'],
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
});

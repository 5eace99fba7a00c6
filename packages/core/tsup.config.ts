import { defineConfig } from 'tsup';

// tfjs-core's Node entry registers no gradients and its ESM files use extension-less imports that plain Node
// cannot resolve. We bundle `register_all_gradients` (and the tfjs-core internals it pulls in) into our own
// output, while every import of the bare `@tensorflow/tfjs-core` stays external: the engine, kernel and gradient
// registries are process-global in tfjs, so the bundled gradient code registers into the one shared engine.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  external: ['@tensorflow/tfjs-core'],
  noExternal: [/^@tensorflow\/tfjs-core\/dist\//],
});

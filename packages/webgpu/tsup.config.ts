import { defineConfig } from 'tsup';

export default defineConfig({
  // `kernels` is platform-neutral (tfjs-core only): the Node platform's Dawn path imports it too.
  entry: ['src/index.ts', 'src/kernels.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'browser',
});

import { defineConfig } from 'tsup';

export default defineConfig({
  // `parallel-worker`: the data-parallel training worker, started by URL next to the bundle (see backend/parallel).
  entry: { index: 'src/index.ts', platform: 'src/platform/index.ts', 'parallel-worker': 'src/backend/parallel/worker.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts', platform: 'src/platform/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
});

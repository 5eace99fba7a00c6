import { defineConfig } from 'tsup';

export default defineConfig({
  // `parallel-worker`: the data-parallel training worker, started by URL next to the bundle (see backend/parallel).
  entry: { index: 'src/index.ts', 'parallel-worker': 'src/backend/parallel/worker.ts' },
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
});

import { defineConfig } from 'tsup';

export default defineConfig({
  // `parallel-worker`: the data-parallel training worker, `kernel-helper`: a replica's kernel thread, both started
  // by URL next to the bundle (see backend/parallel).
  entry: {
    index: 'src/index.ts',
    platform: 'src/platform/index.ts',
    'parallel-worker': 'src/backend/parallel/worker.ts',
    'kernel-helper': 'src/backend/parallel/kernel-helper.ts',
  },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts', platform: 'src/platform/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
});

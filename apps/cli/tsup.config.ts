import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
  banner: { js: '' },
  // the dashboard is optional: loaded at run time when installed (apps/web in the repository)
  external: ['@fastts/web'],
});

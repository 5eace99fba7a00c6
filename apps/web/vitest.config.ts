import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// Unit tests of the server side (src/**/*.test.ts) and the end-to-end browser tests (tests/web/**/*.e2e.ts),
// which start the production build (`next build` runs first: turbo's `test` depends on `build`).
const repoRoot = resolve(__dirname, '..', '..');

export default defineConfig({
  test: {
    root: repoRoot,
    include: [
      'apps/web/src/**/*.test.ts',
      'apps/web/serve/**/*.test.ts',
      'apps/web/lib/**/*.test.ts',
      'apps/web/components/**/*.test.ts',
      'tests/web/**/*.e2e.ts',
    ],
    exclude: ['**/node_modules/**', '**/.next/**'],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});

import { defineConfig } from 'vitest/config';

// End-to-end tests across packages: every *.test.ts under tests/ (CLI subprocess tests in cli/, others in src/).
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    // The suites run the CPU-heavy binaries and browsers: one file at a time on a 2-core machine.
    fileParallelism: false,
  },
});

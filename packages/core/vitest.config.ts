import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // tfjs-core's ESM files need a resolver that handles extension-less imports: let Vite load them.
    server: { deps: { inline: [/@tensorflow\/tfjs-core\/dist\//] } },
  },
});

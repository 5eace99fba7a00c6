// ESLint (flat config): typescript-eslint's recommended rules, the architecture's import rules, and nothing about
// formatting (Prettier owns that: `npm run lint` runs both).
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import prettier from 'eslint-config-prettier';
import nextPlugin from '@next/eslint-plugin-next';

/** Node's built-in modules, by both names (`fs` and `node:fs`). */
const NODE_BUILTINS = ['node:*', ...(await import('node:module')).builtinModules.filter((m) => !m.startsWith('_'))];
/** Browser globals core must not touch (it runs in Node and browsers through platform packages). */
const DOM_GLOBALS = [
  'window',
  'document',
  'navigator',
  'location',
  'HTMLElement',
  'HTMLCanvasElement',
  'HTMLImageElement',
  'OffscreenCanvas',
  'Image',
  'fetch',
  'localStorage',
  'indexedDB',
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.next/**',
      '**/.turbo/**',
      '**/out/**',
      '**/coverage/**',
      'apps/web/public/**',
      'apps/web/next-env.d.ts',
      '.gpu-check/**',
      'tests/web/artifacts/**',
      '**/*.d.mts',
    ],
  },
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: ['packages/*/tsconfig.json', 'apps/*/tsconfig.json'],
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: {
      // No import cycles, type-only ones included: they make modules impossible to read or load in isolation.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
    },
  },
  {
    // The dashboard: Next.js's own rules (images, links, scripts, Core Web Vitals).
    files: ['apps/web/**/*.{ts,tsx,mjs}'],
    plugins: { '@next/next': nextPlugin },
    settings: { next: { rootDir: 'apps/web' } },
    rules: { ...nextPlugin.configs.recommended.rules, ...nextPlugin.configs['core-web-vitals'].rules },
  },
  {
    // @fastts/core is platform-free: no Node modules, no DOM (platform packages hand it pixels and storage).
    files: ['packages/core/src/**/*.ts'],
    ignores: ['packages/core/src/**/*.test.ts', 'packages/core/src/**/*.test-util.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: NODE_BUILTINS,
              message:
                '@fastts/core runs in browsers too: no Node modules (a platform package provides files, decoding and threads).',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...DOM_GLOBALS.map((name) => ({
          name,
          message: '@fastts/core is platform-free: no DOM (the browser platform provides it).',
        })),
      ],
    },
  },
  prettier,
);

/**
 * esbuild bundles of test entry points: a browser page script (so browser tests do not depend on the Next.js
 * app) and self-contained Node scripts (for the conformance runner and the GPU-machine check).
 */
import { build } from 'esbuild';
import { copyFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Bundles `entry` into `outfile` for the browser (ESM, one file, source maps). */
export async function bundleForBrowser(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    sourcemap: 'linked',
    logLevel: 'error',
    // tfjs-backend-wasm's emscripten glue mentions Node built-ins behind runtime checks.
    external: ['fs', 'path', 'os', 'crypto', 'worker_threads', 'perf_hooks'],
    define: { 'process.env.NODE_ENV': '"production"' },
  });
}

/**
 * Bundles `entry` into `outfile` for Node (ESM), with tfjs-backend-wasm's `.wasm` files beside it. Native addons
 * stay external and are resolved from `node_modules` at run time: `webgpu` (dawn.node), `sharp`,
 * `@tensorflow/tfjs-node-gpu`.
 */
export async function bundleForNode(entry: string, outfile: string, external: string[] = []): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'error',
    // tfjs' `sideEffects` lists name only its ESM files: without this, esbuild drops the bare
    // `import '@tensorflow/tfjs-backend-cpu'` of the CommonJS Node build, and the backend never registers.
    ignoreAnnotations: true,
    external: ['webgpu', 'sharp', '@tensorflow/tfjs-node-gpu', ...external],
    // CommonJS dependencies bundled into ESM still call require() for Node built-ins, and tfjs-backend-wasm
    // finds its .wasm files through __dirname (copied beside the bundle below).
    banner: {
      js:
        `import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; ` +
        `import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); ` +
        `const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);`,
    },
  });
  const wasm = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  for (const f of readdirSync(wasm).filter((n) => n.endsWith('.wasm'))) copyFileSync(join(wasm, f), join(dirname(outfile), f));
}

/**
 * Copies tfjs-backend-wasm's `.wasm` binaries into `public/tfjs-wasm/` before `next build`: bundlers do not copy
 * them, and the browser backend fetches them by URL (`setupBackend({ wasmPaths: '/tfjs-wasm/' })`).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
const out = join(here, '..', 'public', 'tfjs-wasm');
mkdirSync(out, { recursive: true });
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
  copyFileSync(join(dist, f), join(out, f));
}

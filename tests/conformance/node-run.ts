/**
 * Runs the conformance suite in Node on one backend and prints the report (and writes it as JSON with --out).
 * Bundled with esbuild (see ../browser/bundle.ts) so that exactly one tfjs-core instance exists.
 *
 *   node conformance.mjs --backend wasm|webgpu|cpu [--checks forward,gradient,...] [--out report.json]
 *                        [--shared DIR | --pack FILE] [--epochs N]
 *
 * `webgpu` is Dawn through the `webgpu` package (set VK_ICD_FILENAMES for SwiftShader); `wasm` is the CPU path.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { fromFolderWith, type DataPlatform } from '@fastts/core/platform';
import { nodePlatform } from '@fastts/node-gpu/platform';
import { describeNodeBackend, setupNodeBackend } from './node-backend.js';
import { loadFixtures, type SharedIo } from './fixtures.js';
import { PackedData } from './packed.js';
import { CHECKS, formatReport, runConformance, type CheckName, type ConformanceReport } from './suite.js';

/** Reads the shared folder from disk, decoding with the Node platform (sharp). */
export function sharedFromDisk(shared: string, platform: DataPlatform = nodePlatform): SharedIo {
  return {
    read: async (rel) => new Uint8Array(await readFile(join(shared, rel))),
    decode: async (rel) => {
      const path = join(shared, rel);
      const probe = await platform.probeImage(path);
      return platform.decodeImage(path, { width: probe.width, height: probe.height, fit: 'fill' });
    },
    dataBunch: (o) => fromFolderWith(platform, join(shared, 'datasets', 'doraemon-walle'), o),
  };
}

/** Runs the suite on `backend` with fixtures from `io`. */
export async function conformanceIn(
  io: SharedIo,
  backend: string,
  options: { checks?: CheckName[]; epochs?: number; log?: (s: string) => void } = {},
): Promise<ConformanceReport> {
  const setup = await setupNodeBackend(backend);
  const fixtures = await loadFixtures(io);
  const report = await runConformance(fixtures, { ...options, backend: setup.tfBackend });
  report.env = { ...describeNodeBackend(setup), node: process.version, tfjs: tf.version_core };
  return report;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'wasm' },
      checks: { type: 'string' },
      out: { type: 'string' },
      shared: { type: 'string', default: process.env.FASTTS_SHARED },
      pack: { type: 'string' },
      epochs: { type: 'string' },
    },
  });
  const checks = values.checks ? (values.checks.split(',') as CheckName[]) : [...CHECKS];
  const bad = checks.filter((c) => !(CHECKS as readonly string[]).includes(c));
  if (bad.length) throw new Error(`unknown check(s) ${bad.join(', ')}; known: ${CHECKS.join(', ')}`);
  let io: SharedIo;
  if (values.pack) io = new PackedData(new Uint8Array(await readFile(values.pack)));
  else if (values.shared) io = sharedFromDisk(values.shared);
  else throw new Error('say where the shared data is: --shared DIR (or FASTTS_SHARED) or --pack FILE');
  const log = (s: string) => process.stderr.write(`[${values.backend}] ${s}\n`);
  const report = await conformanceIn(io, values.backend!, {
    checks,
    ...(values.epochs ? { epochs: Number(values.epochs) } : {}),
    log,
  });
  process.stderr.write(`${formatReport(report)}\n`);
  const json = JSON.stringify(report);
  if (values.out) await writeFile(values.out, json);
  // Wait for the pipe to take it: process.exit() would cut an asynchronous stdout write short.
  await new Promise<void>((ok) => process.stdout.write(`${json}\n`, () => ok()));
  process.exitCode = report.ok ? 0 : 1;
}

// Run when executed as the bundle's entry (not when imported by the GPU check).
if (process.argv[1] && /conformance\.m?js$/.test(process.argv[1])) {
  main().then(
    () => process.exit(),
    (e: unknown) => {
      process.stderr.write(`conformance: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(2);
    },
  );
}

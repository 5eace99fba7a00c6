/**
 * The conformance suite in Node: on the CPU path (wasm) and on WebGPU through Dawn with Chromium's SwiftShader
 * Vulkan driver. Each backend runs in its own process (the bundled runner), as a user's program would.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR, requireShared } from '../../test-support/shared';
import { buildNodeRunner } from './build';
import { formatReport, type ConformanceReport } from './suite';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let runner: Awaited<ReturnType<typeof buildNodeRunner>>;

beforeAll(async () => {
  requireShared();
  runner = await buildNodeRunner();
});
afterAll(() => runner?.cleanup());

/** Runs the bundled suite on `backend` in a child process; resolves with its report. */
function runSuite(backend: string, env: NodeJS.ProcessEnv = {}): Promise<{ report: ConformanceReport; log: string }> {
  const out = join(runner.script, '..', `report-${backend}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runner.script, '--backend', backend, '--shared', SHARED_DIR, '--out', out], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!existsSync(out)) return reject(new Error(`the ${backend} run exited with ${code} and no report:\n${log}`));
      resolve({ report: JSON.parse(readFileSync(out, 'utf8')) as ConformanceReport, log });
    });
  });
}

function expectAllPass({ report, log }: { report: ConformanceReport; log: string }): void {
  const text = formatReport(report);
  expect(
    report.checks.map((c) => c.name),
    text,
  ).toEqual(['forward', 'gradient', 'training', 'memory']);
  for (const c of report.checks) expect(c.ok, `${text}\n\n${log.slice(-4000)}`).toBe(true);
}

describe('conformance in Node', () => {
  it('passes on the CPU path (wasm)', async () => {
    const r = await runSuite('wasm');
    expect(r.report.backend).toBe('wasm');
    expectAllPass(r);
  }, 600_000);

  it.runIf(existsSync(SWIFTSHADER_ICD))(
    'passes on WebGPU through Dawn (SwiftShader)',
    async () => {
      const r = await runSuite('webgpu', { VK_ICD_FILENAMES: SWIFTSHADER_ICD });
      expect(r.report.env?.adapter).toMatchObject({ architecture: 'swiftshader', isFallbackAdapter: true });
      expectAllPass(r);
    },
    900_000,
  );
});

/**
 * The conformance suite in headless Chromium: on WebGPU (SwiftShader, a software fallback adapter) and on the
 * wasm fallback, through @fastts/webgpu's backend setup, decoding and dropped-folder data sets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReport, type ConformanceReport } from '../conformance/suite';
import { openTestPage, type TestPage } from './harness';

let t: TestPage;

beforeAll(async () => {
  t = await openTestPage();
}, 120_000);
afterAll(async () => {
  await t?.close();
});

async function conformance(backend: 'webgpu' | 'wasm'): Promise<ConformanceReport> {
  const page = await t.newPage();
  try {
    const { report } = await page.evaluate((b) => window.fastts.conformance(b), backend);
    return report;
  } finally {
    await page.close();
  }
}

function expectAllPass(report: ConformanceReport): void {
  const text = `${formatReport(report)}\n\nbrowser console (last lines):\n${t.consoleLines.slice(-30).join('\n')}`;
  expect(
    report.checks.map((c) => c.name),
    text,
  ).toEqual(['forward', 'gradient', 'training', 'memory']);
  for (const c of report.checks) expect(c.ok, text).toBe(true);
}

describe('conformance in headless Chromium', () => {
  it('passes on WebGPU (SwiftShader)', async () => {
    const report = await conformance('webgpu');
    expect(report.backend).toBe('webgpu');
    expect(report.env?.setup).toMatchObject({ adapter: { isFallbackAdapter: true } });
    expectAllPass(report);
  }, 900_000);

  it('passes on the wasm fallback', async () => {
    const report = await conformance('wasm');
    expect(report.backend).toBe('wasm');
    expectAllPass(report);
  }, 600_000);
});

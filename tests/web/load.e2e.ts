/**
 * The dashboard under load, small enough for every CI run: apps/web/scripts/load-test.mjs on 200 runs (copies of a
 * fabricated run), 10 clients x 30 requests, a new run moved in while list viewers watch. The bounds are the
 * acceptance bounds of the full version (`npm run load-test -w @fastts/web`: 1,000 runs, 20 clients x 100).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../test-support/shared';

const out = mkdtempSync(join(tmpdir(), 'fastts-web-loadtest-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Check {
  what: string;
  value: number;
  bound: number;
  pass: boolean;
}

describe('load test (small)', () => {
  it('200 runs, 10 clients x 30 requests: no error, p95 <= 500 ms, flat RSS, a new run listed within 2 s', async () => {
    const json = join(out, 'result.json');
    const script = join(REPO_ROOT, 'apps', 'web', 'scripts', 'load-test.mjs');
    const proc = spawn(process.execPath, [script, '--runs', '200', '--clients', '10', '--requests', '30', '--json', json], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    proc.stdout.on('data', (d) => (text += d));
    proc.stderr.on('data', (d) => (text += d));
    const code = await new Promise<number | null>((ok) => proc.on('exit', ok));
    console.log(text);
    const r = JSON.parse(readFileSync(json, 'utf8')) as {
      indexed: number;
      checks: Check[];
      load: { errors: number; total: number };
    };
    expect(r.indexed).toBe(200);
    expect(r.load).toMatchObject({ errors: 0, total: 300 });
    expect(r.checks.filter((c) => !c.pass)).toEqual([]);
    expect(code).toBe(0);
  }, 300_000);
});

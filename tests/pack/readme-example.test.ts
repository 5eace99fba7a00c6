/**
 * The README's Node example, run as written in a new app that installed the packed tarballs (`npm pack`), with
 * only the data path (this workspace's copy of doraemon-walle instead of `untarData`) and the architecture (a
 * small MobileNet whose weights are in the pre-filled cache, instead of resnet34) changed: it must train to a real
 * accuracy with no import but `@fastts/node-gpu` and no wiring of its own.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installPackedApp, packWorkspaces } from '../../test-support/packed-app.js';
import { DORAEMON_WALLE, REPO_ROOT, WEIGHTS_HOME, requireShared } from '../../test-support/shared.js';

const tmp = mkdtempSync(join(tmpdir(), 'fastts-readme-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The README's code block that imports @fastts/node-gpu. */
function readmeNodeExample(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const example = blocks.find((b) => b.includes("from '@fastts/node-gpu'"));
  if (!example) throw new Error("README.md has no ```ts block importing '@fastts/node-gpu'");
  return example;
}

let run: { status: number | null; stdout: string; stderr: string };
let source: string;

beforeAll(async () => {
  requireShared();
  source = readmeNodeExample();
  const changed = source
    .replace('await untarData(URLs.DORAEMON_WALLE)', JSON.stringify(DORAEMON_WALLE))
    .replace("'resnet34'", "'mobilenet_v1_0.25_224'");
  expect(changed, 'the example still loads doraemon-walle with untarData and trains resnet34').not.toBe(source);
  const app = await installPackedApp(
    join(tmp, 'app'),
    await packWorkspaces(['@fastts/core', '@fastts/node-gpu', '@fastts/webgpu'], join(tmp, 'tgz')),
  );
  writeFileSync(join(app, 'example.mjs'), changed);
  run = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['example.mjs'], {
      cwd: app,
      env: { ...process.env, FASTTS_HOME: WEIGHTS_HOME, FASTTS_OFFLINE: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}, 1_500_000);

describe("the README's Node example in a new app (packed tarballs)", () => {
  it('imports nothing but @fastts/node-gpu', () => {
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    expect(new Set(imports)).toEqual(new Set(['@fastts/node-gpu']));
  });

  it("runs to the end and prints fast.ai's epoch tables, reaching >= 0.85 valid accuracy", () => {
    expect(run.status, `stderr:\n${run.stderr}\nstdout:\n${run.stdout}`).toBe(0);
    const header = run.stdout.split('\n').filter((l) => l.startsWith('epoch'));
    expect(header).toEqual([
      'epoch     train_loss  valid_loss  accuracy  time',
      'epoch     train_loss  valid_loss  accuracy  time',
    ]);
    const rows = run.stdout.split('\n').filter((l) => /^\d+ +\d+\.\d{6} +\d+\.\d{6} +\d\.\d{6} +\d\d:\d\d$/.test(l));
    expect(rows).toHaveLength(4);
    const accuracy = Number(rows.at(-1)!.trim().split(/\s+/)[3]);
    expect(accuracy).toBeGreaterThanOrEqual(0.85);
    expect(run.stderr).toContain('fastts: backend');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});

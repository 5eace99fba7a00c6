import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clearRunCache, readRunCached } from './runCache';
import { runFingerprint } from './runFiles';
import { runsIndex } from './runsIndex';
import { watcherCounts, watchRun, type RunEvent } from './runWatchers';

let base: string;
const old = process.env.FASTTS_RUNS;

function makeRun(id: string, status: object): string {
  const dir = join(base, 'runs', id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ arch: 'resnet18', classes: ['a', 'b'], epochs: 2 }));
  writeFileSync(join(dir, 'status.json'), JSON.stringify(status));
  writeFileSync(join(dir, 'batches.jsonl'), '{"iter":0,"epoch":0,"loss":0.5}\n');
  return dir;
}

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'fastts-web-watch-'));
  process.env.FASTTS_RUNS = join(base, 'runs');
});
afterAll(() => {
  runsIndex().close();
  rmSync(base, { recursive: true, force: true });
  if (old === undefined) delete process.env.FASTTS_RUNS;
  else process.env.FASTTS_RUNS = old;
});

describe('watchRun', () => {
  it('shares one watcher among all viewers of a run, tells each about changes and the end, and stops after the last', async () => {
    const dir = makeRun('live', { status: 'running', pid: process.pid });
    await runsIndex().ready();
    const fp = await runFingerprint('live');
    const a: RunEvent[] = [];
    const b: RunEvent[] = [];
    const stopA = watchRun('live', fp, fp, (e) => a.push(e));
    const stopB = watchRun('live', fp, 'an older fingerprint', (e) => b.push(e));
    expect(watcherCounts()).toEqual({ runs: 1, viewers: 2 });
    await vi.waitFor(() => expect(b).toEqual([{ type: 'change', status: 'running', epochs: 0 }])); // B had seen an older state
    expect(a).toEqual([]);
    appendFileSync(join(dir, 'metrics.jsonl'), '{"epoch":0,"phase":"frozen","accuracy":0.9}\n');
    await vi.waitFor(() => expect(a).toEqual([{ type: 'change', status: 'running', epochs: 1 }]), { timeout: 3000 });
    writeFileSync(join(dir, 'status.json'), JSON.stringify({ status: 'finished' }));
    await vi.waitFor(() => expect(a.at(-1)).toEqual({ type: 'end', status: 'finished' }), { timeout: 3000 });
    expect(b.at(-1)).toEqual({ type: 'end', status: 'finished' });
    stopA();
    expect(watcherCounts()).toEqual({ runs: 1, viewers: 1 });
    stopB();
    expect(watcherCounts()).toEqual({ runs: 0, viewers: 0 });
  });
});

describe('readRunCached', () => {
  it('reads a run once per change of its files, and re-decides the status on every hit', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await new Promise((ok) => child.once('spawn', ok));
    const dir = makeRun('cached', { status: 'running', pid: child.pid });
    clearRunCache();
    const first = await readRunCached('cached');
    expect(first.run.batches).toHaveLength(1);
    expect((await readRunCached('cached')).run).toBe(first.run); // the same object: not read again
    appendFileSync(join(dir, 'batches.jsonl'), '{"iter":1,"epoch":0,"loss":0.4}\n');
    const second = await readRunCached('cached');
    expect(second.fp).not.toBe(first.fp);
    expect(second.run.batches).toHaveLength(2);
    expect(second.run.status).toBe('running');
    // The process dies: same files, same fingerprint, new status.
    child.kill('SIGKILL');
    await new Promise((ok) => child.once('exit', ok));
    const dead = await readRunCached('cached');
    expect(dead.fp).toBe(second.fp);
    expect(dead.run).toMatchObject({ status: 'interrupted', resumable: false, batches: second.run.batches });
  });
});

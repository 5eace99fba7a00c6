import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Count every file the index reads, by name: the point of the index is reading little, and only what changed.
const reads: string[] = [];
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const readFile = ((path: Parameters<typeof fs.readFile>[0], ...rest: unknown[]) => {
    reads.push(String(path));
    return (fs.readFile as (...a: unknown[]) => Promise<unknown>)(path, ...rest);
  }) as typeof fs.readFile;
  return { ...fs, default: { ...fs, readFile }, readFile };
});

const { RunsIndex } = await import('./runsIndex');
const { queryRuns, parseRunsQuery } = await import('./runsQuery');

let base: string;
let runs: string;
let index: InstanceType<typeof RunsIndex> | null = null;
const FAST = { tickMs: 40, sweepMs: 200, hotMs: 300 };

const metric = (epoch: number, accuracy: number) =>
  JSON.stringify({ epoch, phase: 'frozen', train_loss: 0.3, valid_loss: 0.2, accuracy, error_rate: 1 - accuracy, seconds: 4 }) +
  '\n';

function run(id: string, o: { arch?: string; acc?: number[]; status?: object; created?: string; dataDir?: string } = {}): string {
  const dir = join(runs, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      arch: o.arch ?? 'resnet18',
      dataDir: o.dataDir ?? '/data/pets',
      classes: ['a', 'b'],
      epochs: 3,
      createdAt: o.created ?? '2026-01-01T00:00:00Z',
    }),
  );
  writeFileSync(join(dir, 'status.json'), JSON.stringify(o.status ?? { status: 'finished' }));
  writeFileSync(join(dir, 'metrics.jsonl'), (o.acc ?? [0.9]).map((a, i) => metric(i, a)).join(''));
  writeFileSync(join(dir, 'batches.jsonl'), '{"iter":0,"epoch":0,"loss":0.5}\n');
  writeFileSync(join(dir, 'interpretation.json'), '{"classes":["a","b"]}');
  return dir;
}

const ids = () => index!.sorted('date:desc').map((r) => r.id);

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'fastts-web-index-'));
});
beforeEach(() => {
  runs = join(base, `runs-${Math.random().toString(16).slice(2)}`);
  mkdirSync(runs);
  reads.length = 0;
});
afterEach(() => {
  index?.close();
  index = null;
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('RunsIndex', () => {
  it('indexes the runs once at start-up, reading only the summary files, and skips what is not a run', async () => {
    for (let i = 0; i < 30; i++)
      run(`r${String(i).padStart(2, '0')}`, { created: `2026-01-${String(i + 1).padStart(2, '0')}T00:00:00Z` });
    mkdirSync(join(runs, 'notes'));
    writeFileSync(join(runs, 'notes', 'readme.txt'), 'x');
    writeFileSync(join(runs, 'file.txt'), 'x');
    mkdirSync(join(base, 'outside'), { recursive: true });
    writeFileSync(join(base, 'outside', 'config.json'), '{"arch":"secret"}');
    symlinkSync(join(base, 'outside'), join(runs, 'linked'));
    index = new RunsIndex(runs, FAST);
    await index.ready();
    expect(ids()).toEqual(Array.from({ length: 30 }, (_, i) => `r${String(29 - i).padStart(2, '0')}`));
    const names = new Set(reads.map((p) => p.split('/').pop()));
    expect([...names].sort()).toEqual(['config.json', 'metrics.jsonl', 'status.json']); // never batches.jsonl or interpretation.json
    expect(reads.filter((p) => p.endsWith('config.json'))).toHaveLength(30);
    expect(index.stats()).toMatchObject({ runs: 30 });
  });

  it('never re-reads unchanged runs: requests and sweeps only stat, a change re-reads that run alone', async () => {
    for (let i = 0; i < 20; i++) run(`r${i}`);
    index = new RunsIndex(runs, FAST);
    await index.ready();
    reads.length = 0;
    for (let i = 0; i < 50; i++)
      queryRuns(index, parseRunsQuery(new URLSearchParams(`page=${(i % 3) + 1}&limit=5&sort=accuracy`)));
    await new Promise((ok) => setTimeout(ok, 3 * FAST.sweepMs)); // every run swept several times
    expect(reads).toEqual([]);
    const v = index.currentVersion;
    appendFileSync(join(runs, 'r7', 'metrics.jsonl'), metric(1, 0.99));
    await vi.waitFor(() => expect(index!.get('r7')?.summary.bestAccuracy).toBe(0.99), { timeout: 2000, interval: 20 });
    expect(new Set(reads.map((p) => p.split('/').slice(-2, -1)[0]))).toEqual(new Set(['r7']));
    expect(index.currentVersion).toBeGreaterThan(v);
  });

  it('picks up a new run and a removed one within a tick, and tells its listeners', async () => {
    run('old');
    index = new RunsIndex(runs, FAST);
    await index.ready();
    const changes = vi.fn();
    index.onChange(changes);
    const t0 = Date.now();
    run('new', { created: '2027-01-01T00:00:00Z' });
    await vi.waitFor(() => expect(ids()).toEqual(['new', 'old']), { timeout: 2000, interval: 10 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(changes).toHaveBeenCalled();
    rmSync(join(runs, 'old'), { recursive: true });
    await vi.waitFor(() => expect(ids()).toEqual(['new']), { timeout: 2000, interval: 10 });
  });

  it('finds new runs by polling when it cannot watch, and a folder that becomes a run later', async () => {
    index = new RunsIndex(runs, { ...FAST, watch: false });
    await index.ready();
    mkdirSync(join(runs, 'pending'));
    await new Promise((ok) => setTimeout(ok, 3 * FAST.tickMs));
    expect(ids()).toEqual([]);
    run('pending');
    await vi.waitFor(() => expect(ids()).toEqual(['pending']), { timeout: 2000, interval: 10 });
  });

  it('follows a runs directory that does not exist yet', async () => {
    rmSync(runs, { recursive: true });
    index = new RunsIndex(runs, FAST);
    await index.ready();
    expect(ids()).toEqual([]);
    mkdirSync(runs);
    run('first');
    await vi.waitFor(() => expect(ids()).toEqual(['first']), { timeout: 2000, interval: 10 });
  });

  it('shows a running run whose process died as interrupted, without any file changing', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await new Promise((ok) => child.once('spawn', ok));
    run('live', { status: { status: 'running', pid: child.pid } });
    index = new RunsIndex(runs, FAST);
    await index.ready();
    expect(index.get('live')?.summary.status).toBe('running');
    child.kill('SIGKILL');
    await new Promise((ok) => child.once('exit', ok));
    await vi.waitFor(
      () =>
        expect(index!.get('live')?.summary).toMatchObject({
          status: 'interrupted',
          error: expect.stringContaining(`pid ${child.pid}`),
        }),
      { timeout: 2000, interval: 20 },
    );
  });
});

describe('queryRuns', () => {
  beforeEach(async () => {
    run('a', { arch: 'resnet18', acc: [0.8], created: '2026-01-01T00:00:00Z' });
    run('b', { arch: 'resnet34', acc: [0.95], created: '2026-01-02T00:00:00Z', dataDir: '/data/cars' });
    run('c', { arch: 'resnet18', acc: [], created: '2026-01-03T00:00:00Z', status: { status: 'failed', error: 'oom' } });
    run('d', { arch: 'resnet18', acc: [0.9, 0.85], created: '2026-01-04T00:00:00Z', status: { status: 'interrupted' } });
    index = new RunsIndex(runs, FAST);
    await index.ready();
  });
  const q = (s: string) => queryRuns(index!, parseRunsQuery(new URLSearchParams(s)));

  it('sorts by date (newest first by default) and by best accuracy, runs without one last either way', () => {
    expect(q('').runs.map((r) => r.id)).toEqual(['d', 'c', 'b', 'a']);
    expect(q('order=asc').runs.map((r) => r.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(q('sort=accuracy').runs.map((r) => r.id)).toEqual(['b', 'd', 'a', 'c']);
    expect(q('sort=accuracy&order=asc').runs.map((r) => r.id)).toEqual(['a', 'd', 'b', 'c']);
  });

  it('filters by arch, dataset, status (several) and id text, with facets over all runs', () => {
    expect(q('arch=resnet18').runs.map((r) => r.id)).toEqual(['d', 'c', 'a']);
    expect(q('dataset=cars').runs.map((r) => r.id)).toEqual(['b']);
    expect(q('status=failed,interrupted').runs.map((r) => r.id)).toEqual(['d', 'c']);
    expect(q('arch=resnet18&status=finished').runs.map((r) => r.id)).toEqual(['a']);
    expect(q('q=B').runs.map((r) => r.id)).toEqual(['b']);
    const page = q('arch=resnet34');
    expect(page.total).toBe(1);
    expect(page.facets.arch).toEqual([
      { value: 'resnet18', count: 3 },
      { value: 'resnet34', count: 1 },
    ]);
    expect(page.facets.status).toEqual([
      { value: 'failed', count: 1 },
      { value: 'finished', count: 2 },
      { value: 'interrupted', count: 1 },
    ]);
  });

  it('paginates', () => {
    const p2 = q('limit=3&page=2');
    expect(p2).toMatchObject({ total: 4, page: 2, pages: 2, limit: 3 });
    expect(p2.runs.map((r) => r.id)).toEqual(['a']);
    expect(q('limit=3&page=5').runs).toEqual([]);
  });

  it('refuses bad parameters with a message naming the parameter and the valid values (400)', () => {
    const bad = (s: string) => {
      try {
        parseRunsQuery(new URLSearchParams(s));
      } catch (e) {
        return [(e as { status: number }).status, (e as Error).message];
      }
      return null;
    };
    expect(bad('sort=loss')).toEqual([400, 'invalid sort "loss": use date or accuracy']);
    expect(bad('order=up')).toEqual([400, 'invalid order "up": use asc or desc']);
    expect(bad('status=done')?.[1]).toContain('invalid status "done": use running, finished');
    expect(bad('page=0')).toEqual([400, 'invalid page "0": use a whole number from 1 to 1000000']);
    expect(bad('limit=501')?.[1]).toBe('invalid limit "501": use a whole number from 1 to 500');
    expect(bad('limit=1e2')?.[0]).toBe(400);
    // Pages are lenient: a hand-edited URL still shows the list, with the defaults.
    expect(parseRunsQuery({ sort: 'loss', page: '-1', limit: ['20', '30'] }, true)).toMatchObject({
      sort: 'date',
      page: 1,
      limit: 20,
    });
  });
});

/**
 * The runs index: every run's summary read once at start-up, then kept up to date incrementally, so that the runs
 * list never re-reads every run per request.
 *
 * - The runs directory itself is watched (`fs.watch`, plus its mtime checked every tick where watching is not
 *   possible): a run folder that appears or disappears is picked up within a tick.
 * - A run's summary is re-read only when the size or mtime of one of its summary files changes (runSummary.ts).
 *   "Hot" runs (running, or not finished/failed/interrupted and changed in the last two minutes, or a folder
 *   that is not a run yet) are stat'ed every tick (1 s); the others in a round-robin sweep that visits each once
 *   every 10 s, a slice per tick, so the cost stays flat. The runs directory is re-listed on its own schedule,
 *   so that a long sweep never delays a new run.
 * - The status of a running run is re-decided on every look (its process may die without a file changing).
 *
 * One index per runs directory per process, shared by every route (through `globalThis`, since Next.js bundles
 * routes separately).
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { runsDir } from './config';
import { byDateDesc } from './runs';
import { probeRun, readRunSummary, redecideStatus, type IndexedRun } from './runSummary';
import type { RunSummary } from './runTypes';
import { isPlainName, realDir, resolveInside } from './safePath';

/** Timing of the index's upkeep (milliseconds). */
export interface RunsIndexOptions {
  /** How often hot runs and the runs directory are checked (default 1000). */
  tickMs?: number;
  /** Every run is looked at at least once per this period (default 10 000). */
  sweepMs?: number;
  /** A run stays hot this long after its files last changed (default 120 000). */
  hotMs?: number;
  /** Watch the runs directory with `fs.watch` for immediate pick-up (default true). */
  watch?: boolean;
}

interface Entry {
  /** The run folder's real path; null when it resolves outside the runs directory (never served). */
  dir: string | null;
  /** The summary, or null while the folder is not (yet) a run. */
  run: IndexedRun | null;
  /** Fingerprint last seen for a folder that is not a run yet. */
  fp: string;
  /** When its files last changed (for hotness). */
  changedAt: number;
}

/** What the index has done: for the start-up line and the load test. */
export interface RunsIndexStats {
  runs: number;
  /** Milliseconds the start-up indexing took. */
  indexedInMs: number;
  /** Bumped on every change of the list. */
  version: number;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The incrementally kept list of the runs in one runs directory. */
export class RunsIndex {
  readonly root: string;
  private readonly opts: Required<RunsIndexOptions>;
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<() => void>();
  private readonly sortedCache = new Map<string, RunSummary[]>();
  private readonly readyPromise: Promise<void>;
  private version = 0;
  private indexedInMs = 0;
  private rootMtime = -1;
  private rootDirty = true;
  private cursor = 0;
  private scanning = false;
  private rescan = false;
  private checking = false;
  private closed = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private soon: ReturnType<typeof setTimeout> | null = null;
  private watcher: FSWatcher | null = null;

  constructor(root: string, opts: RunsIndexOptions = {}) {
    this.root = root;
    this.opts = { tickMs: 1000, sweepMs: 10_000, hotMs: 120_000, watch: true, ...opts };
    const t0 = performance.now();
    this.readyPromise = this.tick(true).then(() => {
      this.indexedInMs = performance.now() - t0;
      if (this.closed) return;
      this.timer = setInterval(() => void this.tick(false), this.opts.tickMs);
      this.timer.unref();
    });
  }

  /** Resolves once the start-up indexing is done. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** Counts and timings. */
  stats(): RunsIndexStats {
    return { runs: this.all().length, indexedInMs: this.indexedInMs, version: this.version };
  }

  /** The list's version: changes whenever a run appears, disappears or its summary changes. */
  get currentVersion(): number {
    return this.version;
  }

  /** Every indexed run. */
  all(): IndexedRun[] {
    const out: IndexedRun[] = [];
    for (const e of this.entries.values()) if (e.run) out.push(e.run);
    return out;
  }

  /** One indexed run, or undefined. */
  get(id: string): IndexedRun | undefined {
    return this.entries.get(id)?.run ?? undefined;
  }

  /**
   * The summaries sorted by `cmp`, cached under `key` until the list changes (a request then costs a filter and
   * a slice, not a sort).
   */
  sorted(key: string, cmp: (a: RunSummary, b: RunSummary) => number = byDateDesc): RunSummary[] {
    let list = this.sortedCache.get(key);
    if (!list) {
      list = this.all()
        .map((r) => r.summary)
        .sort(cmp);
      this.sortedCache.set(key, list);
    }
    return list;
  }

  /** Calls `fn` (at most once per tick) whenever the list changes; returns the unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Re-reads one run now (a live view saw its files change); resolves when the index reflects it. */
  async refreshRun(id: string): Promise<void> {
    await this.readyPromise;
    const e = this.entries.get(id);
    if (!e) {
      this.rootDirty = true;
      return this.scan(false);
    }
    if (await this.check(id, e, Date.now())) this.changed();
  }

  /** Stops watching and polling. */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    this.watcher?.close();
    this.listeners.clear();
  }

  private changed(): void {
    this.version++;
    this.sortedCache.clear();
    for (const fn of this.listeners) {
      try {
        fn();
      } catch {
        /* a listener's failure is its own */
      }
    }
  }

  /** Watches the runs directory so that a new run is picked up at once (best effort: polling covers the rest). */
  private ensureWatch(rootReal: string): void {
    if (this.watcher || !this.opts.watch || this.closed) return;
    try {
      this.watcher = watch(rootReal, { persistent: false }, () => {
        this.rootDirty = true;
        if (!this.soon && !this.closed) {
          this.soon = setTimeout(() => {
            this.soon = null;
            void this.scan(false);
          }, 50);
        }
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      this.watcher = null; // e.g. out of inotify watches: the mtime poll still finds new runs within a tick
    }
  }

  /** One round: the runs directory (when it changed), then the hot runs and a slice of the sweep. */
  private async tick(initial: boolean): Promise<void> {
    if (this.closed) return;
    const scan = this.scan(initial);
    if (!initial && !this.checking) {
      this.checking = true;
      try {
        if (await this.checkSome(Date.now())) this.changed();
      } catch (err) {
        console.error('[fastts dashboard] runs index:', err instanceof Error ? err.message : err);
      } finally {
        this.checking = false;
      }
    }
    await scan;
  }

  /**
   * Re-lists the runs directory (when it changed) and tells the listeners when runs came or went. A request made
   * while a listing is under way runs right after it, so that a watch event is never lost to a busy index.
   */
  private async scan(initial: boolean): Promise<void> {
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = true;
    try {
      do {
        this.rescan = false;
        if (await this.scanRootIfChanged(initial)) {
          if (initial) this.sortedCache.clear();
          else this.changed();
        }
      } while (this.rescan && !this.closed);
    } catch (err) {
      console.error('[fastts dashboard] runs index:', err instanceof Error ? err.message : err);
    } finally {
      this.scanning = false;
    }
  }

  /** Re-lists the runs directory when it changed (watch event or mtime): adds new runs, drops removed ones. */
  private async scanRootIfChanged(initial: boolean): Promise<boolean> {
    const rootReal = await realDir(this.root);
    if (!rootReal) {
      this.watcher?.close();
      this.watcher = null;
      this.rootMtime = -1;
      const had = this.entries.size > 0;
      this.entries.clear();
      return had;
    }
    this.ensureWatch(rootReal);
    const mtime = (await stat(rootReal)).mtimeMs;
    if (!initial && !this.rootDirty && mtime === this.rootMtime) return false;
    this.rootDirty = false;
    this.rootMtime = mtime;
    const dirents = await readdir(rootReal, { withFileTypes: true }).catch(() => []);
    const seen = new Set<string>();
    const fresh: string[] = [];
    for (const d of dirents) {
      if (!isPlainName(d.name) || !(d.isDirectory() || d.isSymbolicLink())) continue;
      seen.add(d.name);
      if (!this.entries.has(d.name)) fresh.push(d.name);
    }
    let changed = false;
    for (const [id, e] of this.entries) {
      if (!seen.has(id)) {
        this.entries.delete(id);
        if (e.run) changed = true;
      }
    }
    const now = Date.now();
    await mapLimit(fresh, 32, async (id) => {
      const e = await this.discover(rootReal, id, now, initial);
      this.entries.set(id, e);
      if (e.run) changed = true;
    });
    return changed;
  }

  /** First look at a folder of the runs directory. */
  private async discover(rootReal: string, id: string, now: number, initial: boolean): Promise<Entry> {
    let dir: string;
    try {
      dir = await resolveInside(rootReal, [id], { kind: `run ${id}`, expect: 'directory' });
    } catch {
      return { dir: null, run: null, fp: '', changedAt: 0 }; // a symlink out of the runs directory: never listed
    }
    const probe = await probeRun(dir).catch(() => null);
    const run = probe ? await readRunSummary(id, dir, probe, now).catch(() => null) : null;
    // At start-up a run is hot only if it was written recently; a folder appearing later is hot from now.
    return { dir, run, fp: probe?.fp ?? '', changedAt: initial ? (probe?.lastWriteMs ?? 0) : now };
  }

  /** Looks at the hot runs and the next slice of the sweep. */
  private async checkSome(now: number): Promise<boolean> {
    const ids = [...this.entries.keys()];
    const hot: string[] = [];
    for (const id of ids) {
      const e = this.entries.get(id)!;
      if (e.dir && this.isHot(e, now)) hot.push(id);
    }
    const slice = Math.max(1, Math.ceil((ids.length * this.opts.tickMs) / this.opts.sweepMs));
    const sweep: string[] = [];
    for (let i = 0; i < Math.min(slice, ids.length); i++) sweep.push(ids[(this.cursor + i) % ids.length]!);
    this.cursor = ids.length ? (this.cursor + slice) % ids.length : 0;
    const todo = [...new Set([...hot, ...sweep])];
    let changed = false;
    await mapLimit(todo, 16, async (id) => {
      const e = this.entries.get(id);
      if (e && (await this.check(id, e, now))) changed = true;
    });
    return changed;
  }

  /**
   * Hot: running; or a folder that is not a run yet, or a run without a final status, that changed lately. A
   * finished, failed or interrupted run is left to the sweep.
   */
  private isHot(e: Entry, now: number): boolean {
    const status = e.run?.summary.status;
    if (status === 'running') return true;
    if (status === 'finished' || status === 'failed' || status === 'interrupted') return false;
    return now - e.changedAt < this.opts.hotMs;
  }

  /** Looks at one run: re-reads its summary when its files changed, else re-decides its status. */
  private async check(id: string, e: Entry, now: number): Promise<boolean> {
    if (!e.dir) return false;
    const probe = await probeRun(e.dir).catch(() => null);
    if (!probe) {
      const had = e.run !== null;
      e.run = null;
      return had;
    }
    if (e.run && probe.fp === e.run.probe.fp) {
      e.run.probe = probe;
      return redecideStatus(e.run, now);
    }
    if (!e.run && probe.fp === e.fp) return false;
    e.fp = probe.fp;
    e.changedAt = now;
    e.run = await readRunSummary(id, e.dir, probe, now).catch(() => null);
    return true;
  }
}

const KEY = Symbol.for('fastts.dashboard.runsIndex');

/** The index of the runs directory the dashboard serves (`FASTTS_RUNS`), created on first use. */
export function runsIndex(): RunsIndex {
  const g = globalThis as { [KEY]?: RunsIndex };
  const root = runsDir();
  let idx = g[KEY];
  if (!idx || idx.root !== root) {
    idx?.close();
    idx = g[KEY] = new RunsIndex(root);
  }
  return idx;
}

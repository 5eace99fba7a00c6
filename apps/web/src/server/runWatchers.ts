/**
 * Live views of a run share one watcher per run: however many pages follow a training run, its files are
 * stat'ed once a second (not once per viewer), and a change is read once (the index re-reads the summary; the
 * pages re-render through the fingerprint-keyed cache). A watcher stops when its last viewer leaves.
 */
import { runFingerprint } from './runFiles';
import { runsIndex } from './runsIndex';
import type { RunStatus } from './runTypes';

/** How often a watched run's files are checked. */
export const WATCH_POLL_MS = 1000;

/** What viewers are told: the run changed (with its status and epochs), or it ended (or its folder went away). */
export type RunEvent =
  { type: 'change'; status: RunStatus | 'gone'; epochs: number } | { type: 'end'; status: RunStatus | 'gone' };

type Listener = (ev: RunEvent) => void;

class RunWatcher {
  private readonly listeners = new Set<Listener>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private busy = false;
  private ended = false;

  constructor(
    readonly id: string,
    private fp: string,
    private readonly onIdle: () => void,
  ) {}

  get viewers(): number {
    return this.listeners.size;
  }

  /** Adds a viewer that last saw fingerprint `since`: told at once when the run changed since. */
  add(fn: Listener, since: string): () => void {
    this.listeners.add(fn);
    if (since !== this.fp) queueMicrotask(() => fn(this.changeEvent()));
    if (!this.timer) {
      this.timer = setInterval(() => void this.poll(), WATCH_POLL_MS);
      this.timer.unref?.();
    }
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.onIdle();
  }

  private status(): RunStatus | 'gone' {
    return runsIndex().get(this.id)?.summary.status ?? 'gone';
  }

  private changeEvent(): RunEvent {
    return { type: 'change', status: this.status(), epochs: runsIndex().get(this.id)?.summary.epochs ?? 0 };
  }

  private broadcast(ev: RunEvent): void {
    for (const fn of [...this.listeners]) fn(ev);
  }

  private async poll(): Promise<void> {
    if (this.busy || this.ended) return;
    this.busy = true;
    try {
      let fp: string;
      try {
        fp = await runFingerprint(this.id);
      } catch {
        this.ended = true;
        this.broadcast({ type: 'end', status: 'gone' });
        return;
      }
      const changed = fp !== this.fp;
      if (changed) {
        this.fp = fp;
        await runsIndex().refreshRun(this.id);
        this.broadcast(this.changeEvent());
      }
      const status = this.status();
      if (status !== 'running') {
        if (!changed) this.broadcast(this.changeEvent()); // e.g. the process died: nothing was written
        this.ended = true;
        this.broadcast({ type: 'end', status });
      }
    } finally {
      this.busy = false;
    }
  }
}

const KEY = Symbol.for('fastts.dashboard.runWatchers');
const g = globalThis as { [KEY]?: Map<string, RunWatcher> };
const watchers: Map<string, RunWatcher> = (g[KEY] ??= new Map());

/**
 * Follows run `id` (already validated) for one viewer that last saw fingerprint `since` (the current one is
 * `current`); returns the unsubscribe function.
 */
export function watchRun(id: string, current: string, since: string, fn: Listener): () => void {
  let w = watchers.get(id);
  if (!w) {
    const created: RunWatcher = new RunWatcher(id, current, () => {
      if (watchers.get(id) === created) watchers.delete(id);
    });
    w = created;
    watchers.set(id, w);
  }
  return w.add(fn, since);
}

/** Watchers alive and their viewers (tests, diagnostics). */
export function watcherCounts(): { runs: number; viewers: number } {
  let viewers = 0;
  for (const w of watchers.values()) viewers += w.viewers;
  return { runs: watchers.size, viewers };
}

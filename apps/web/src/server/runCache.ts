/**
 * Run pages read through a small cache keyed by the run's fingerprint (sizes and mtimes of what the page shows):
 * twenty viewers refreshing after the same change share one read, and an unchanged run is never re-parsed.
 * The status is re-decided on every hit, since a training process can die without any file changing.
 */
import { runFingerprint } from './runFiles';
import { readRunFull, type RunRead } from './runs';
import { decideStatus } from './runStatus';
import type { RunDetail } from './runTypes';

/** Runs kept parsed at most, and the most batch/item records they may hold together. */
const MAX_RUNS = 8;
const MAX_RECORDS = 2_000_000;

interface Cached {
  fp: string;
  read: Promise<RunRead>;
  records: number;
}

const KEY = Symbol.for('fastts.dashboard.runCache');
const g = globalThis as { [KEY]?: Map<string, Cached> };
/** Insertion order is recency order (a hit re-inserts). Shared across route bundles through `globalThis`. */
const cache: Map<string, Cached> = (g[KEY] ??= new Map());

function weight(r: RunRead): number {
  return (
    r.detail.batches.length +
    r.detail.metrics.length +
    (r.detail.interpretation?.items.length ?? 0) +
    r.detail.testPredictions.length
  );
}

function evict(): void {
  let total = 0;
  for (const c of cache.values()) total += c.records;
  for (const [id, c] of cache) {
    if (cache.size <= MAX_RUNS && total <= MAX_RECORDS) break;
    cache.delete(id);
    total -= c.records;
  }
}

/**
 * A run's details and the fingerprint they were read at (validates the id: 400 for a bad one, 404 for a missing one).
 * The fingerprint is taken before reading, so a change made while reading still shows as a change later.
 */
export async function readRunCached(id: string): Promise<{ run: RunDetail; fp: string }> {
  const fp = await runFingerprint(id);
  let c = cache.get(id);
  if (c && c.fp === fp) {
    cache.delete(id);
    cache.set(id, c);
  } else {
    const read = readRunFull(id);
    const entry: Cached = { fp, read, records: 0 };
    c = entry;
    cache.set(id, entry);
    read.then(
      (r) => {
        entry.records = weight(r);
        evict();
      },
      () => {
        if (cache.get(id) === entry) cache.delete(id);
      },
    );
  }
  const r = await c.read;
  const { status, error } = decideStatus(r.statusJson, r.detail.modelFiles.length > 0, r.lastWriteMs, Date.now());
  const run = status === r.detail.status && error === r.detail.error ? r.detail : { ...r.detail, status, error };
  return { run, fp };
}

/** Forgets every cached run (tests). */
export function clearRunCache(): void {
  cache.clear();
}

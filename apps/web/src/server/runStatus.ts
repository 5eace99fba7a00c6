/**
 * Where a run stands, from its `status.json` (written by the CLI) or, without one, from what files exist and how
 * fresh they are. A run whose `status.json` says `running` but whose process is gone reads as `interrupted`.
 */
import { hostname } from 'node:os';
import { num, str } from './parse';
import type { RunStatus } from './runTypes';

/** A run whose files have not changed for this long, with no live writer to ask, is considered stopped. */
export const STALE_MS = 10 * 60 * 1000;

/** Whether process `pid` exists on this machine (`null`: no pid to ask). `EPERM` means it exists as another user. */
export function pidAlive(pid: number | null): boolean | null {
  if (pid === null || !Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Decides a run's status. `statusJson` is the parsed `status.json` (or null), `hasModel` whether `model/` holds
 * files, `lastWriteMs` the newest mtime among the run's files. A `running` run is asked by its pid when the status
 * was written on this machine (a `host` field naming another machine, or no pid, falls back to freshness): a dead
 * pid, or no write for {@link STALE_MS}, reads as `interrupted`.
 */
export function decideStatus(
  statusJson: Record<string, unknown> | null,
  hasModel: boolean,
  lastWriteMs: number,
  now: number,
): { status: RunStatus; error: string | null } {
  const s = str(statusJson?.status);
  const error = str(statusJson?.error);
  if (s === 'finished' || s === 'failed' || s === 'interrupted') return { status: s, error };
  if (s === 'running') {
    const host = str(statusJson?.host) ?? str(statusJson?.hostname);
    const pid = num(statusJson?.pid);
    const alive = host === null || host === hostname() ? pidAlive(pid) : null;
    if (alive === false) {
      return { status: 'interrupted', error: error ?? `the training process (pid ${pid}) is gone without finishing the run` };
    }
    if (alive === null && now - lastWriteMs > STALE_MS) {
      return { status: 'interrupted', error: error ?? 'no update for 10 minutes: the training process is gone without finishing the run' };
    }
    return { status: 'running', error: null };
  }
  if (hasModel) return { status: 'finished', error: null };
  if (now - lastWriteMs < STALE_MS) return { status: 'running', error: null };
  return { status: 'unknown', error: null };
}

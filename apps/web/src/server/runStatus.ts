/**
 * Where a run stands, from its `status.json` (written by the CLI) or, without one, from what files exist and how
 * fresh they are. A run whose `status.json` says `running` but whose process is gone reads as `interrupted`.
 */
import { hostname } from 'node:os';
import { decideStatus as decideRunStatus, STALE_MS } from '@fastts/core/runs';
import type { RunStatus } from './runTypes';

export { STALE_MS };

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
 * Decides a run's status (the run format's rule, `@fastts/core/runs`' `decideStatus`) with this machine's evidence:
 * `statusJson` is the parsed `status.json` (or null), `hasModel` whether `model/` holds files, `lastWriteMs` the
 * newest mtime among the run's files. A `running` run whose pid is gone here, or silent for {@link STALE_MS}, reads
 * as `interrupted`.
 */
export function decideStatus(
  statusJson: Record<string, unknown> | null,
  hasModel: boolean,
  lastWriteMs: number,
  now: number,
): { status: RunStatus; error: string | null } {
  return decideRunStatus(statusJson, { hasModel, lastWriteMs, now, host: hostname(), alive: (pid) => pidAlive(pid) });
}

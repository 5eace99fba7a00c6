/**
 * Where the dashboard reads from: the runs directory the CLI writes (`FASTTS_RUNS`, default `./runs` of the
 * directory the dashboard was started from) and the weight cache (`FASTTS_HOME`, default `~/.cache/fastts`).
 * Both are read on every request, so `startDashboard()` (or a test) can point them anywhere before serving.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The runs directory, absolute. */
export function runsDir(): string {
  return resolve(/*turbopackIgnore: true*/ process.env.FASTTS_RUNS ?? join(process.env.INIT_CWD ?? process.cwd(), 'runs'));
}

/** The fastts home (weight cache parent), absolute; weights live in `<home>/models/<arch>/`. */
export function fasttsHome(): string {
  return resolve(/*turbopackIgnore: true*/ process.env.FASTTS_HOME ?? join(homedir(), '.cache', 'fastts'));
}

/** The weight cache folder, `FASTTS_HOME/models`. */
export function modelsDir(): string {
  return join(/*turbopackIgnore: true*/ fasttsHome(), 'models');
}

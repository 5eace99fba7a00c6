/** Where pretrained weights are cached on disk. */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The fastts cache root: `FASTTS_HOME`, or `~/.cache/fastts`. */
export function fasttsHome(): string {
  const env = process.env.FASTTS_HOME;
  return resolve(env && env.length > 0 ? env : join(homedir(), '.cache', 'fastts'));
}

/** The folder holding an architecture's pretrained weights: `<home>/models/<arch>/`. */
export function pretrainedDir(arch: string, home: string = fasttsHome()): string {
  return join(home, 'models', arch);
}

/** Whether downloads are forbidden (`FASTTS_OFFLINE` set to 1/true/yes). */
export function isOffline(): boolean {
  return /^(1|true|yes)$/i.test(process.env.FASTTS_OFFLINE ?? '');
}

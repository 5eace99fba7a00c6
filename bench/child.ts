/** Runs a TypeScript script of the repository in a child Node process (through tsx) and parses its last JSON line. */
import { spawn } from 'node:child_process';
import { REPO_ROOT } from '../test-support/shared.js';

/** Spawns `node --import tsx script ...args`; resolves with the last line of stdout parsed as JSON, or an error text. */
export function runJsonScript<T>(
  script: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ value: T } | { error: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(env ? { env } : {}),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => resolve({ error: e.message }));
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      const why = (): string => `exit ${code}: ${(err || out).trim().split('\n').slice(-2).join(' | ')}`;
      if (code !== 0) return resolve({ error: why() });
      try {
        resolve({ value: JSON.parse(last) as T });
      } catch {
        resolve({ error: why() });
      }
    });
  });
}

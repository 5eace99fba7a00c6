/** An in-memory {@link CliIo} for tests: captures stdout and stderr. */
import type { CliIo, OutStream } from '../output.js';

/** A captured stream. */
export class Capture implements OutStream {
  text = '';
  constructor(
    public isTTY = false,
    public columns = 100,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** An io whose stdout/stderr are {@link Capture}s. */
export function memoryIo(
  env: Record<string, string | undefined> = {},
  cwd = process.cwd(),
): CliIo & { stdout: Capture; stderr: Capture } {
  return { stdout: new Capture(), stderr: new Capture(), env, cwd };
}

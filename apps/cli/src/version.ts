/** The CLI's version, from apps/cli/package.json (found next to dist/ or src/). */
import { readFileSync } from 'node:fs';

/** The version in apps/cli/package.json. */
export function cliVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

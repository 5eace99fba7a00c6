/**
 * `fastts dashboard`: serves the Next.js dashboard (`@fastts/web`, in `apps/web` of the repository) over a runs
 * folder until Ctrl-C. The dashboard is an optional part: a `fastts` installed without it says how to get it.
 */
import { resolve } from 'node:path';
import type { CommandContext } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import type { DashboardOptions } from '../options.js';

/** What this command needs of `@fastts/web`'s `startDashboard` (apps/web/start.mjs). */
interface DashboardModule {
  startDashboard(opts: Record<string, unknown>): Promise<{
    url: string;
    loginUrl: string;
    auth: boolean;
    runsDir: string;
    indexed: { runs: number; seconds: number } | null;
    close(): Promise<void>;
  }>;
  DashboardStartError: new (message: string) => Error;
}

async function loadDashboard(): Promise<DashboardModule> {
  try {
    return (await import('@fastts/web' as string)) as DashboardModule;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new CliError('the dashboard (@fastts/web) is not installed with this fastts', {
        hint: 'run it from a clone of the fastts repository (npm ci, then npx fastts dashboard)',
        cause: e,
      });
    }
    throw e;
  }
}

/** Runs `fastts dashboard`: prints the URL, serves until Ctrl-C (or SIGTERM), then closes and exits 0. */
export async function runDashboard(options: DashboardOptions, ctx: CommandContext): Promise<void> {
  const { io, reporter, interrupts } = ctx;
  const web = await loadDashboard();
  let dashboard;
  try {
    dashboard = await web.startDashboard({
      runsDir: resolve(io.cwd, options.runs),
      port: options.port,
      host: options.host,
      ...(options.home ? { home: resolve(io.cwd, options.home) } : {}),
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.auth === false ? { auth: false } : {}),
      ...(options.redis ? { redis: options.redis } : {}),
      ...(options.dataRoot ? { dataRoot: resolve(io.cwd, options.dataRoot) } : {}),
    });
  } catch (e) {
    if (e instanceof web.DashboardStartError) throw new UsageError(e.message, { cause: e });
    throw e;
  }
  // The tokened URL is printed once, here; it is never logged again (nor written to --json output).
  reporter.result({ url: dashboard.url, auth: dashboard.auth, runsDir: dashboard.runsDir });
  const runs = dashboard.indexed ? `, ${dashboard.indexed.runs} runs indexed in ${dashboard.indexed.seconds.toFixed(1)} s` : '';
  const noAuth = dashboard.auth ? '' : '; no authentication, loopback only';
  reporter.out(`fastts dashboard on ${dashboard.loginUrl} (runs: ${dashboard.runsDir}${runs}${noAuth}); Ctrl-C stops it`);
  await new Promise<void>((done) => {
    if (interrupts.signal.aborted) done();
    else interrupts.signal.addEventListener('abort', () => done(), { once: true });
  });
  await dashboard.close();
}

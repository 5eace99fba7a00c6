import type { Server } from 'node:http';

/** Thrown for a bad option, a busy port or an app that cannot be built; its message says what to do. */
export declare class DashboardStartError extends Error {
  constructor(message: string);
}

/**
 * Options of {@link startDashboard}; the command line (`node apps/web/start.mjs`, `npm run dashboard --`) has
 * the same ones as `--runs`, `--port`, `--host`, `--home`, `--token`, `--no-auth`.
 */
export interface StartDashboardOptions {
  /** The runs directory the CLI writes (default `FASTTS_RUNS` or `./runs`). `--runs` */
  runsDir?: string;
  /** TCP port (default 3000; 0 picks a free one). `--port` */
  port?: number;
  /** Interface to listen on (default 127.0.0.1: loopback only; `0.0.0.0` for every interface). `--host` */
  host?: string;
  /** FASTTS_HOME, whose `models/` weight cache the in-browser training reads. `--home` */
  home?: string;
  /** Build the app first when no build exists (default true). */
  build?: boolean;
  /**
   * The access token (default: `FASTTS_DASHBOARD_TOKEN` when set, else 32 random bytes, base64url). Printable
   * ASCII without spaces. `--token` (visible to other users in the process list: prefer the variable)
   */
  token?: string;
  /**
   * `false` serves without a token. Only allowed when `host` is a loopback address (127.0.0.1, ::1, localhost);
   * requests must then name a loopback host (DNS-rebinding protection). Default true.
   */
  auth?: boolean;
  /** The same as `auth: false`. `--no-auth` */
  noAuth?: boolean;
  /** The Redis URL of the fastts workers (default `FASTTS_REDIS_URL`): enables the Queue page. `--redis` */
  redis?: string;
  /** The folder whose sub-folders the Queue page may submit as training data sets. `--data-root` */
  dataRoot?: string;
}

/** A running dashboard. */
export interface Dashboard {
  /** The base URL, without the token (`http://127.0.0.1:3000`). */
  url: string;
  /**
   * The URL to open: `url` + `/?token=…` (just `url` without authentication). The start-up line prints it; print it
   * once, never log it again.
   */
  loginUrl: string;
  /** The token clients need (`Authorization: Bearer <token>`), or null without authentication. */
  token: string | null;
  /** Whether a token is required. */
  auth: boolean;
  /** How many runs the start-up indexing found and how long it took (null when the index was not built yet). */
  indexed: { runs: number; seconds: number } | null;
  port: number;
  host: string;
  runsDir: string;
  server: Server;
  close(): Promise<void>;
}

/** Serves the dashboard's production build (building it once when needed), behind its token. */
export declare function startDashboard(opts?: StartDashboardOptions): Promise<Dashboard>;
/** Parses command-line arguments (`--runs`, `--port`, `--host`, `--home`, `--token`, `--no-auth`, `--help`) into options. */
export declare function parseArgs(argv: string[]): StartDashboardOptions & { help?: boolean };
/** True when a production build of the app exists. */
export declare function isBuilt(): boolean;
/** Builds the app (`next build`), printing its output to stderr. */
export declare function buildDashboard(): void;

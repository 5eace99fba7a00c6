import type { Server } from 'node:http';

/** Thrown for a bad option, a busy port or an app that cannot be built; its message says what to do. */
export declare class DashboardStartError extends Error {
  constructor(message: string);
}

/** Options of {@link startDashboard}. */
export interface StartDashboardOptions {
  /** The runs directory the CLI writes (default `FASTTS_RUNS` or `./runs`). */
  runsDir?: string;
  /** TCP port (default 3000; 0 picks a free one). */
  port?: number;
  /** Interface to listen on (default 127.0.0.1: loopback only). */
  host?: string;
  /** FASTTS_HOME, whose `models/` weight cache the in-browser training reads. */
  home?: string;
  /** Build the app first when no build exists (default true). */
  build?: boolean;
}

/** A running dashboard. */
export interface Dashboard {
  url: string;
  port: number;
  host: string;
  runsDir: string;
  server: Server;
  close(): Promise<void>;
}

/** Serves the dashboard's production build (building it once when needed). */
export declare function startDashboard(opts?: StartDashboardOptions): Promise<Dashboard>;
/** True when a production build of the app exists. */
export declare function isBuilt(): boolean;
/** Builds the app (`next build`), printing its output to stderr. */
export declare function buildDashboard(): void;

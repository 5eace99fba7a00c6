/** Choosing where tensors run (`--backend`, `--threads`), through `setupBackend` of `@fastts/node-gpu`. */
import * as nodeGpu from '@fastts/node-gpu';
import { CliError } from './errors.js';
import type { BackendOptions } from './options.js';
import type { Reporter } from './output.js';

/** What the CLI reports about the backend in use. */
export interface BackendInfo {
  /** The tfjs backend name (`wasm`, `cpu`, `tensorflow` for CUDA, ...). */
  name: string;
  /** Threads it runs on, when known. */
  threads?: number;
  /** One line for the log. */
  description: string;
}

type SetupBackend = (o: { backend?: string; threads?: number }) => Promise<unknown>;

/** Sets up the backend asked for and says which one runs. Errors (e.g. no usable CUDA) propagate as they are. */
export async function setupCliBackend(options: BackendOptions, reporter: Reporter): Promise<BackendInfo> {
  const setup = (nodeGpu as unknown as { setupBackend?: SetupBackend }).setupBackend;
  if (typeof setup !== 'function') {
    throw new CliError('this build of @fastts/node-gpu has no setupBackend()', { hint: 'rebuild the workspace (npx turbo run build)' });
  }
  const raw = (await setup({ backend: options.backend, ...(options.threads !== undefined ? { threads: options.threads } : {}) })) as
    | { backend?: string; name?: string; threads?: number; description?: string; summary?: string }
    | undefined;
  const name = raw?.backend ?? raw?.name ?? 'unknown';
  const info: BackendInfo = {
    name,
    ...(typeof raw?.threads === 'number' ? { threads: raw.threads } : {}),
    description: raw?.description ?? raw?.summary ?? `${name}${typeof raw?.threads === 'number' ? ` (${raw.threads} threads)` : ''}`,
  };
  reporter.debug(`backend: ${info.description}`);
  return info;
}

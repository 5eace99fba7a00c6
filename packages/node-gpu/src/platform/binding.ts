/**
 * What importing `@fastts/node-gpu` binds into core (see core's `registerPlatform`), so that fast.ai's few lines
 * run as written: the backend (chosen on first use: a GPU, else wasm with every core), the weight cache for
 * pretrained weights (downloading on first use), the file system as the learners' storage, data-parallel training
 * on worker threads with the wasm backend, fast.ai's progress bar and epoch table, and Ctrl-C stopping a fit at the
 * end of its batch with a checkpoint. {@link configure} changes these defaults; each call's own options still win.
 */
import { registerPlatform, registerTrainStepFactory } from '@fastts/core/platform';
import { type ProgressReporter } from '@fastts/core';
import { activeBackend, setupBackend, type NodeBackendName } from '../backend/setup.js';
import { visionDataParallelSteps } from '../backend/parallel/vision-step.js';
import { loadPretrained } from '../weights/load.js';
import { fitInterruptScope } from './interrupts.js';
import { nodeStorage } from './storage.js';
import { terminalReporter } from './terminal-reporter.js';

/** The Node platform's defaults (see {@link configure}). */
export interface NodeDefaults {
  /** The backend set up on first use (default: env `FASTTS_BACKEND`, else `auto`). */
  backend?: NodeBackendName;
  /** Compute threads (default: env `FASTTS_THREADS`, else the CPU cores, at most 8); also the data-parallel workers. */
  threads?: number;
  /** Data-parallel training on worker threads: `auto` (default) with the wasm backend, `on` (required), `off`. */
  parallel?: 'auto' | 'on' | 'off';
  /** No output: no backend line, no progress bar or epoch table (default false). */
  quiet?: boolean;
  /** Ctrl-C stops a fit at the end of its batch with a checkpoint, then exits 130 (default true). */
  interrupts?: boolean;
  /** The progress output learners get (default: {@link terminalReporter}). */
  reporter?: () => ProgressReporter | undefined;
  /** Where one-line notices go (backend chosen, training step; default stderr). */
  log?: (line: string) => void;
}

let defaults: NodeDefaults = {};

/**
 * Changes the Node platform's defaults for what follows (learners already built keep theirs):
 * ```ts
 * configure({ backend: 'wasm', threads: 1, quiet: true });
 * ```
 */
export function configure(options: NodeDefaults): void {
  defaults = { ...defaults, ...options };
}

/** The Node platform's current defaults. */
export function nodeDefaults(): Readonly<NodeDefaults> {
  return defaults;
}

const log = (line: string): void => {
  if (defaults.quiet) return;
  (defaults.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
};

/** Binds the Node platform into core (done once when the package is imported). */
export function bindNodePlatform(): void {
  registerPlatform({
    name: 'node',
    async ready() {
      if (activeBackend()) return; // set up explicitly (setupBackend) or by an earlier call
      await setupBackend({
        ...(defaults.backend ? { backend: defaults.backend } : {}),
        ...(defaults.threads ? { threads: defaults.threads } : {}),
        log: defaults.quiet ? null : log,
      });
    },
    storage: nodeStorage(),
    loadPretrained: (arch) => loadPretrained(arch),
    reporter: () => (defaults.quiet ? undefined : (defaults.reporter ?? terminalReporter)()),
    interrupts: () =>
      defaults.interrupts === false ? undefined : fitInterruptScope((line) => process.stderr.write(`${line}\n`)),
  });
  registerTrainStepFactory(async (req) => {
    const parallel = defaults.parallel ?? 'auto';
    if (parallel === 'off') return undefined;
    return visionDataParallelSteps({
      ...(defaults.threads ? { workers: defaults.threads } : {}),
      log: (line) => log(`fastts: ${line}`),
      required: parallel === 'on',
    })(req);
  });
}

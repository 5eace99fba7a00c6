/**
 * The PyTorch CPU reference (`shared/bench/torch_cpu_baseline.py`), run in the same job as fastts' measurements.
 * Needs Python 3.11 with Debian's torch and torchvision: `apt-get install python3-torch python3-torchvision`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARED_DIR } from '../test-support/shared.js';

/** PyTorch's throughput on this machine. */
export interface TorchResult {
  python: string;
  version: string;
  threads: number;
  trainUnfrozen: number;
  trainFrozen: number;
  inference: number;
  seconds: number;
}

export const TORCH_INSTALL_HINT =
  'install PyTorch for the system Python: `apt-get install python3-torch python3-torchvision` (Debian), ' +
  'then run `/usr/bin/python3.11 -c "import torch, torchvision"` to check';

/** The baseline script: `$FASTTS_SHARED/bench/torch_cpu_baseline.py` (default `../shared`). */
export function torchScript(): string {
  return join(SHARED_DIR, 'bench', 'torch_cpu_baseline.py');
}

/**
 * A Python 3.11 that can import torch and torchvision: Debian's `/usr/bin/python3.11` first (pyenv's shim on
 * PATH usually lacks them), then `python3.11` and `python3` on PATH.
 */
export function findTorchPython(): string | null {
  for (const py of ['/usr/bin/python3.11', 'python3.11', '/usr/bin/python3', 'python3']) {
    if (py.startsWith('/') && !existsSync(py)) continue;
    try {
      execFileSync(py, ['-c', 'import torch, torchvision'], { stdio: 'ignore', timeout: 120_000 });
      return py;
    } catch {
      // not this one
    }
  }
  return null;
}

/** Runs the baseline; resolves with its figures, or rejects with the reason it could not run. */
export function runTorchBaseline(
  python: string,
  arch: string,
  bs: number,
  steps: number,
  env?: NodeJS.ProcessEnv,
): Promise<TorchResult> {
  const script = torchScript();
  if (!existsSync(script)) {
    return Promise.reject(
      new Error(`the PyTorch baseline script is missing: ${script} (set FASTTS_SHARED to the shared folder)`),
    );
  }
  const t0 = performance.now();
  return runPython(python, [script, arch, String(bs), String(steps)], env).then(({ code, out, err }) => {
    const m = /train_unfrozen_img_per_s=([\d.]+) train_frozen_img_per_s=([\d.]+) infer_img_per_s=([\d.]+)/.exec(out);
    const head = /torch (\S+) threads=(\d+)/.exec(out);
    if (code !== 0 || !m) {
      throw new Error(`the PyTorch baseline failed (exit ${code}): ${(err || out).trim().split('\n').slice(-3).join(' | ')}`);
    }
    return {
      python,
      version: head?.[1] ?? '?',
      threads: Number(head?.[2] ?? 0),
      trainUnfrozen: Number(m[1]),
      trainFrozen: Number(m[2]),
      inference: Number(m[3]),
      seconds: (performance.now() - t0) / 1000,
    };
  });
}

/**
 * glibc malloc settings under which PyTorch keeps the memory it frees instead of returning it to the system
 * (bench/run.ts' second PyTorch engine): by default, glibc serves blocks over its mmap threshold (at most 32 MB; ResNet-34's
 * 224 px activations at batch 16 are 51 MB) with fresh mmaps, so every step touches new pages, and on a VM whose
 * page faults are slow (this one: ~7-20 µs per 4 KB page) that is a large and variable part of PyTorch's time.
 */
export const TORCH_KEPT_MEMORY_ENV = { MALLOC_MMAP_THRESHOLD_: '4294967296', MALLOC_TRIM_THRESHOLD_: '4294967296' };

/** Runs a Python script to its end, collecting stdout and stderr. */
function runPython(
  python: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** PyTorch's CPU seconds per image per phase (bench/torch_cpu_time.py, OpenMP threads not spinning). */
export interface TorchCpuTime {
  trainUnfrozen: number;
  trainFrozen: number;
  inference: number;
}

/** Runs bench/torch_cpu_time.py: the baseline's workloads, timed in process CPU seconds. */
export function runTorchCpuTime(python: string, arch: string, bs: number, steps: number): Promise<TorchCpuTime> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_cpu_time.py');
  return runPython(python, [script, arch, String(bs), String(steps)], { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' }).then(
    ({ code, out, err }) => {
      const m = /cpu_s_per_img train_unfrozen=([\d.]+) train_frozen=([\d.]+) infer=([\d.]+)/.exec(out);
      if (code !== 0 || !m) {
        throw new Error(`torch_cpu_time.py failed (exit ${code}): ${(err || out).trim().split('\n').slice(-2).join(' | ')}`);
      }
      return { trainUnfrozen: Number(m[1]), trainFrozen: Number(m[2]), inference: Number(m[3]) };
    },
  );
}

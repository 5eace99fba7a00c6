/**
 * Looks at the machine (without loading anything) for the pieces TensorFlow 2.9's GPU build needs: the NVIDIA
 * kernel driver, a GPU device, and the CUDA 11.2 / cuDNN 8.1 user-space libraries. Used only to explain *why*
 * tfjs-node-gpu sees no GPU.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The shared libraries libtensorflow 2.9 (CUDA 11.2, cuDNN 8.1) opens at start-up, by soname. */
export const CUDA_LIBRARIES = [
  'libcuda.so.1',
  'libcudart.so.11.0',
  'libcublas.so.11',
  'libcublasLt.so.11',
  'libcufft.so.10',
  'libcurand.so.10',
  'libcusolver.so.11',
  'libcusparse.so.11',
  'libcudnn.so.8',
] as const;

/** What {@link probeCudaSystem} found. */
export interface CudaSystemProbe {
  /** The NVIDIA kernel module's version line (`/proc/driver/nvidia/version`), or null when no driver is loaded. */
  driver: string | null;
  /** GPU model names (`/proc/driver/nvidia/gpus/<bus>/information`), or `/dev/nvidiaN` nodes when names are hidden. */
  gpus: string[];
  /** The CUDA/cuDNN sonames of {@link CUDA_LIBRARIES} that could not be found. */
  missingLibraries: string[];
}

/** Folders searched for CUDA libraries besides `LD_LIBRARY_PATH` and the `ldconfig` cache. */
const LIBRARY_DIRS = [
  '/usr/local/cuda/lib64',
  '/usr/local/cuda-11.2/lib64',
  '/usr/local/nvidia/lib64',
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
];

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function ldconfigCache(): string {
  for (const bin of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      return execFileSync(bin, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    } catch {
      // try the next location
    }
  }
  return '';
}

/** Inspects the driver, GPU devices and CUDA libraries of this machine. Never throws. */
export function probeCudaSystem(env: NodeJS.ProcessEnv = process.env): CudaSystemProbe {
  const version = readText('/proc/driver/nvidia/version');
  const driver = version ? (version.split('\n')[0] ?? '').trim() : null;

  const gpuRoot = '/proc/driver/nvidia/gpus';
  const gpus = listDir(gpuRoot)
    .map((bus) => /Model:\s*(.+)/.exec(readText(join(gpuRoot, bus, 'information')) ?? '')?.[1]?.trim())
    .filter((name): name is string => !!name);
  if (gpus.length === 0) {
    gpus.push(
      ...listDir('/dev')
        .filter((f) => /^nvidia\d+$/.test(f))
        .map((f) => `/dev/${f}`),
    );
  }

  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIBRARY_DIRS];
  let cache: string | undefined;
  const missingLibraries = CUDA_LIBRARIES.filter((lib) => {
    if (dirs.some((d) => existsSync(join(d, lib)))) return false;
    cache ??= ldconfigCache();
    return !cache.includes(`${lib} `);
  });
  return { driver, gpus, missingLibraries };
}

/**
 * Whether this Linux machine shows any GPU device node an accelerator API could open: NVIDIA (`/dev/nvidia0`...)
 * or a DRM render node (`/dev/dri/renderD*`: AMD, Intel, NVIDIA with nouveau). Always true on other platforms
 * (no cheap test there). Lets `auto` skip loading CUDA or Dawn, and their console noise, on GPU-less servers.
 */
export function hasGpuDeviceNode(platform: NodeJS.Platform = process.platform, devDir = '/dev'): boolean {
  if (platform !== 'linux') return true;
  if (listDir(devDir).some((f) => /^nvidia\d+$/.test(f))) return true;
  return listDir(join(devDir, 'dri')).some((f) => f.startsWith('renderD'));
}

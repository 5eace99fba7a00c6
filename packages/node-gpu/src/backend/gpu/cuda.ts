/**
 * The CUDA path: `@tensorflow/tfjs-node-gpu` (libtensorflow 2.9.1 built for CUDA 11.2 / cuDNN 8.1), an optional
 * dependency loaded lazily. Its install script downloads libtensorflow and the native addon; fastts denies
 * install scripts by default, so on most machines the package is present but has no addon.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CudaUnavailableError, type CudaMissing } from './errors.js';
import { probeCudaSystem, type CudaSystemProbe } from './cudaProbe.js';
import type { GpuBackendResult } from './result.js';

/** The npm package of the CUDA path. */
export const CUDA_MODULE = '@tensorflow/tfjs-node-gpu';
/** The tfjs backend name tfjs-node-gpu registers. */
export const CUDA_TF_BACKEND = 'tensorflow';

const INSTALL_HINT =
  `install it and allow its install script (it downloads libtensorflow 2.9.1 for CUDA 11.2 / cuDNN 8.1): ` +
  `\`npm i ${CUDA_MODULE}@4.22.0 && npm install-scripts approve ${CUDA_MODULE} && npm rebuild ${CUDA_MODULE}\``;
const CUDA_VERSIONS = 'CUDA 11.2 and cuDNN 8.1 (libcudart.so.11.0, libcudnn.so.8)';

/** Options of {@link tryCuda}; the defaults are the real module and the real machine (tests inject fakes). */
export interface TryCudaOptions {
  /**
   * Loads the module; loading must register the `tensorflow` tfjs backend as tfjs-node-gpu does.
   * Default: `import('@tensorflow/tfjs-node-gpu')`.
   */
  loader?: () => Promise<unknown>;
  /** Inspects driver/GPU/CUDA libraries to explain a missing GPU. Default: {@link probeCudaSystem}. */
  probe?: () => CudaSystemProbe;
  /**
   * Do not even load the module when the machine shows no NVIDIA driver or device (what `auto` wants: loading
   * tfjs-node-gpu and libtensorflow costs seconds). Default false: an explicit `cuda` reports the module first.
   */
  skipWithoutGpu?: boolean;
}

/** The parts of tfjs-node-gpu's NodeJSKernelBackend read here. */
interface NodeKernelBackendLike {
  isUsingGpuDevice?: boolean;
}

function defaultLoader(): Promise<unknown> {
  // A variable specifier: the module is optional, so neither TypeScript nor the bundler may resolve it.
  const name: string = CUDA_MODULE;
  return import(name);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Classifies a failed import of tfjs-node-gpu into the missing piece and a readable message. */
export function explainCudaLoadError(e: unknown): CudaUnavailableError {
  const msg = messageOf(e);
  const code = (e as { code?: string } | null)?.code;
  const first = msg.split('\n')[0] ?? msg;
  let missing: CudaMissing;
  let text: string;
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && msg.includes(CUDA_MODULE)) {
    missing = 'module';
    text = `${CUDA_MODULE} is not installed: ${INSTALL_HINT}.`;
  } else if (msg.includes('tfjs_binding.node')) {
    missing = 'binding';
    text =
      `${CUDA_MODULE} is installed but its native addon (tfjs_binding.node) is missing, because its install ` +
      `script did not run (fastts denies install scripts by default). Allow and run it: ` +
      `\`npm install-scripts approve ${CUDA_MODULE} && npm rebuild ${CUDA_MODULE}\` (needs network access to ` +
      `download libtensorflow 2.9.1 GPU).`;
  } else if (/libtensorflow/.test(msg)) {
    missing = 'libtensorflow';
    text =
      `${CUDA_MODULE}'s addon could not load libtensorflow (${first}). Re-run its install script: ` +
      `\`npm rebuild ${CUDA_MODULE}\` (with its install script approved).`;
  } else if (/lib(cuda|cudart|cublas|cudnn|cufft|curand|cusolver|cusparse)[\w.]*\.so/.test(msg)) {
    missing = 'cuda-libraries';
    text = `${CUDA_MODULE} could not load a CUDA library (${first}): it needs ${CUDA_VERSIONS} on LD_LIBRARY_PATH.`;
  } else {
    missing = 'load-failed';
    text = `${CUDA_MODULE} failed to load: ${first}`;
  }
  return new CudaUnavailableError(missing, text, { cause: e });
}

/** Explains, from a look at the machine, why libtensorflow placed nothing on a GPU. */
export function explainNoGpu(probe: CudaSystemProbe, loaded = true): CudaUnavailableError {
  if (probe.driver === null && probe.gpus.length === 0) {
    return new CudaUnavailableError(
      'driver',
      `${loaded ? `${CUDA_MODULE} loaded, but no` : 'No'} NVIDIA GPU is visible: no NVIDIA kernel driver ` +
        `(/proc/driver/nvidia) and no /dev/nvidia* device. Install the NVIDIA driver (and, in a container, run it ` +
        `with the GPU exposed).`,
    );
  }
  const missingCuda = probe.missingLibraries.filter((l) => l !== 'libcuda.so.1');
  if (probe.missingLibraries.includes('libcuda.so.1')) {
    return new CudaUnavailableError(
      'driver',
      `${CUDA_MODULE} loaded, but the NVIDIA driver's user-space library libcuda.so.1 was not found ` +
        `(driver: ${probe.driver ?? 'unknown'}). Install the driver's CUDA library matching the kernel module.`,
    );
  }
  if (missingCuda.length > 0) {
    return new CudaUnavailableError(
      'cuda-libraries',
      `${CUDA_MODULE} loaded and a GPU is present (${probe.gpus.join(', ') || 'unnamed'}), but TensorFlow 2.9 ` +
        `needs ${CUDA_VERSIONS}; not found: ${missingCuda.join(', ')}. Install those versions (other CUDA/cuDNN ` +
        `majors do not work) and put their lib64 folders on LD_LIBRARY_PATH.`,
    );
  }
  return new CudaUnavailableError(
    'gpu',
    `${CUDA_MODULE} loaded and driver and CUDA libraries look present, but TensorFlow placed no op on a GPU ` +
      `(GPU: ${probe.gpus.join(', ') || 'none listed'}; driver: ${probe.driver ?? 'unknown'}). Check that the ` +
      `libraries are CUDA 11.2 / cuDNN 8.1 and that the driver supports CUDA 11.2; TF_CPP_MIN_LOG_LEVEL=0 shows ` +
      `TensorFlow's own log.`,
  );
}

function dropTensorflowBackend(): void {
  if (tf.findBackendFactory(CUDA_TF_BACKEND) !== null) tf.removeBackend(CUDA_TF_BACKEND);
}

/**
 * Tries the CUDA path: loads `@tensorflow/tfjs-node-gpu` (lazily) and checks that TensorFlow uses a GPU.
 * On success the `tensorflow` backend is active. On failure it is removed again (a libtensorflow on CPU is not
 * what `cuda` promises) and `error` names the missing piece: the module, its native addon, libtensorflow, the
 * driver/GPU, or the CUDA 11.2 / cuDNN 8.1 libraries.
 */
export async function tryCuda(options: TryCudaOptions = {}): Promise<GpuBackendResult> {
  const { loader = defaultLoader, probe = probeCudaSystem, skipWithoutGpu = false } = options;
  const base = { backend: 'cuda', tfBackend: CUDA_TF_BACKEND } as const;
  if (skipWithoutGpu) {
    const system = probe();
    if (system.driver === null && system.gpus.length === 0) return { ...base, ok: false, error: explainNoGpu(system, false) };
  }
  try {
    await loader();
  } catch (e) {
    dropTensorflowBackend();
    return { ...base, ok: false, error: explainCudaLoadError(e) };
  }
  if (tf.findBackendFactory(CUDA_TF_BACKEND) === null) {
    return {
      ...base,
      ok: false,
      error: new CudaUnavailableError('load-failed', `${CUDA_MODULE} loaded but registered no tensorflow backend.`),
    };
  }
  let usingGpu = false;
  try {
    if (tf.engine().backendName !== CUDA_TF_BACKEND) await tf.setBackend(CUDA_TF_BACKEND);
    const backend = tf.findBackend(CUDA_TF_BACKEND) as NodeKernelBackendLike | null;
    usingGpu = backend?.isUsingGpuDevice === true;
  } catch (e) {
    dropTensorflowBackend();
    return { ...base, ok: false, error: explainCudaLoadError(e) };
  }
  const system = probe();
  if (!usingGpu) {
    dropTensorflowBackend();
    return { ...base, ok: false, error: explainNoGpu(system) };
  }
  const gpu = system.gpus.find((g) => !g.startsWith('/dev/')) ?? 'an NVIDIA GPU';
  return { ...base, ok: true, description: `CUDA on ${gpu} (${CUDA_MODULE}, libtensorflow 2.9.1)` };
}

/**
 * `Identity` without a copy for backends whose own copies the data. tfjs clones every tensor a gradient needs
 * (`saveTensorsForBackwardMode`: one `Identity` per saved input or output of every op on the tape), and
 * tfjs-backend-wasm's `Identity` copies the values; tensors are immutable (a variable's `assign` swaps its data
 * rather than writing into it), so the clone can share the data with a reference count, as tfjs' cpu and webgl
 * backends do. On ResNet-34 that is ~250 copies per training step (~35 ms of a 2 s step on one core).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

interface RefCountingBackend {
  incRef(dataId: object): void;
}

/** The sharing `Identity` for `backendName` (strings keep the backend's own: they are not refcounted there). */
export function sharedIdentityKernel(backendName: string, own: KernelConfig): KernelConfig {
  const kernelFunc = ((args) => {
    const x = args.inputs['x'] as TensorInfo;
    if (x.dtype === 'string') return (own.kernelFunc as KernelFunc)(args);
    (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  }) as KernelFunc;
  return { kernelName: 'Identity', backendName, kernelFunc };
}

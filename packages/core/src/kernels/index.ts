/**
 * `kernels`: gradient kernels some backends lack (or implement slowly), composed from the forward kernels they
 * have — e.g. `Conv2DBackpropFilter` on wasm as transpose → conv2d (dilation = stride) → transpose on XNNPACK.
 */
import '../gradients.js';
export {
  registerMissingKernels,
  unregisterComposedKernels,
  composedKernel,
  COMPOSED_KERNEL_NAMES,
  SLOW_KERNELS,
} from './register.js';
export type { ComposedKernelName, RegisterKernelsOptions, RegisterKernelsReport } from './register.js';
export { KernelCompositionError } from './errors.js';
export { batchNormTrain } from './batchnorm-train.js';
export type { BatchNormTrainResult } from './batchnorm-train.js';
export { clearFilterCache as clearComposedKernelCache, filterCacheSize as composedKernelCacheSize } from './filter-cache.js';
export { simdSupported, relaxedSimdSupported } from './simd/conv-kernels.js';
export { setWinogradConvolutions, winogradConvolutions } from './simd/winograd.js';
export { attachKernelThreads, KernelThreadPool, probeKernelThreads, runKernelHelper } from './simd/kernel-threads.js';
export type { KernelHelperData } from './simd/kernel-threads.js';
export type { KernelThreads } from './simd/kernel-job.js';
export { setNativeConvolutions, nativeConvolutions } from './native-convolutions.js';
export type { NativeConvolutions, NativeConvCall, NativeConvOp, NativeConvFusion } from './native-convolutions.js';
export type { ConvGeometry } from './conv-geometry.js';

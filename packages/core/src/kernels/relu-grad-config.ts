/**
 * ReLU's gradient in one pass. tfjs' is `mul(dy, cast(step(x), 'float32'))`: three kernels and two temporaries
 * (on wasm the same-dtype cast is a copy), ~33 ms of a ResNet-34 training step at batch 8 on one core. `FasttsReluGrad`
 * (dx = dy where x > 0, else 0; a NaN input gives 0 where tfjs' step gives NaN) runs where a backend registers it
 * (wasm: the SIMD engine, relu-grad.ts), tfjs' composition elsewhere. gradients.ts registers this config over
 * tfjs-core's.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Kernel name: ReLU's gradient (inputs dy, x; output dx = dy where x > 0). */
export const RELU_GRAD = 'FasttsReluGrad';

/** ReLU's gradient config: the one-pass kernel where registered for the current backend, else tfjs' composition. */
export const reluGradConfig: tf.GradConfig = {
  kernelName: 'Relu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as [tf.Tensor];
    const g = dy as tf.Tensor;
    return {
      x: () =>
        x.dtype === 'float32' && g.dtype === 'float32' && tf.getKernel(RELU_GRAD, tf.getBackend()) !== undefined
          ? (tf.engine().runKernel(RELU_GRAD, { dy: g, x }, {}) as tf.Tensor)
          : tf.mul(g, tf.cast(tf.step(x), 'float32')),
    };
  },
};

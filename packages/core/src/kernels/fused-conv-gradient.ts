/**
 * A gradient for the `FusedConv2D` kernel (conv + bias, linear activation), so that a model can run it directly
 * under a gradient tape: tfjs' `tf.fused.conv2d` wraps it in `customGrad`, whose gradient computes the input,
 * filter and bias gradients together whether or not they are needed (a frozen filter's, the image's). Registered
 * per input, the tape computes only the gradients on the path to a trainable variable, and the forward pass keeps
 * one tensor per layer (conv + add kept two).
 */
import * as tf from '@tensorflow/tfjs-core';

interface FusedConvAttrs {
  strides: [number, number] | number;
  pad: 'same' | 'valid' | number;
  dataFormat: 'NHWC';
  dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation: string;
}

tf.registerGradient({
  kernelName: 'FusedConv2D',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const a = attrs as unknown as FusedConvAttrs;
    const dilated = Array.isArray(a.dilations) ? a.dilations.some((d) => d !== 1) : a.dilations !== 1;
    if (a.activation !== 'linear' || dilated) {
      throw new Error(`the FusedConv2D gradient handles linear activation without dilation, got ${a.activation}`);
    }
    const g = dy as tf.Tensor4D;
    const common = { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode };
    return {
      x: () =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy: g, filter }, { ...common, inputShape: x.shape } as never) as tf.Tensor,
      filter: () =>
        tf
          .engine()
          .runKernel('Conv2DBackpropFilter', { x, dy: g }, { ...common, filterShape: filter.shape } as never) as tf.Tensor,
      bias: () => tf.sum(g, [0, 1, 2]),
    };
  },
});

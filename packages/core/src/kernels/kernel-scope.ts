/**
 * Runs a backend's own kernels from inside another kernel, below the engine: no tape, no tensor tracking, no
 * profiling records. Every intermediate is freed when the scope closes, except the one result handed back.
 */
import {
  getKernel,
  type KernelBackend,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { KernelCompositionError } from './errors.js';

/** Kernel attributes as the kernels read them (arrays, numbers, strings, nested pads). */
export type Attrs = Record<string, unknown>;

/**
 * A kernel-level evaluation scope on one backend. `run` calls a registered kernel of that backend directly;
 * `close(result)` disposes every intermediate but `result`.
 */
export class KernelScope {
  private readonly temps: TensorInfo[] = [];

  constructor(
    readonly backendName: string,
    readonly backend: KernelBackend,
  ) {}

  /** True when the backend has a kernel of this name. */
  has(kernelName: string): boolean {
    return getKernel(kernelName, this.backendName) !== undefined;
  }

  /** Runs the backend's kernel `kernelName`; its output is an intermediate of this scope. */
  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: Attrs = {}): TensorInfo {
    const kernel = getKernel(kernelName, this.backendName);
    if (!kernel) {
      throw new KernelCompositionError(
        `kernel '${kernelName}' is not registered for backend '${this.backendName}': a composed kernel needs it`,
      );
    }
    const out = kernel.kernelFunc({
      inputs: inputs as NamedTensorInfoMap,
      attrs: attrs as NamedAttrMap,
      backend: this.backend,
    });
    const outs = Array.isArray(out) ? out : [out];
    this.temps.push(...outs);
    const first = outs[0];
    if (!first) throw new KernelCompositionError(`kernel '${kernelName}' returned no output`);
    return first;
  }

  /** Frees every intermediate except `keep` (the composed kernel's result), and returns `keep`. */
  close(keep: TensorInfo): TensorInfo {
    let kept = false;
    for (const t of this.temps) {
      if (t === keep && !kept) {
        kept = true;
        continue;
      }
      this.backend.disposeData(t.dataId);
    }
    this.temps.length = 0;
    if (!kept) {
      throw new KernelCompositionError('internal: a composed kernel returned a tensor it did not create');
    }
    return keep;
  }

  /** Frees every intermediate (on failure). */
  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }

  // ------------------------------------------------------------------------------------------------------------
  // the building blocks, with the attribute spelling each kernel expects

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    return this.run('Slice', { x }, { begin, size });
  }

  stridedSlice(x: TensorInfo, begin: number[], end: number[], strides: number[]): TensorInfo {
    return this.run(
      'StridedSlice',
      { x },
      { begin, end, strides, beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0 },
    );
  }

  pad(x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  reverse(x: TensorInfo, dims: number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  concat(xs: TensorInfo[], axis: number): TensorInfo {
    // Concat takes its inputs as an array (as tfjs-core's concat op passes them).
    return this.run('Concat', xs as unknown as Record<string, TensorInfo>, { axis });
  }

  zeros(shape: number[]): TensorInfo {
    return this.run('Fill', {}, { shape, value: 0, dtype: 'float32' });
  }

  multiply(a: TensorInfo, b: TensorInfo): TensorInfo {
    return this.run('Multiply', { a, b });
  }

  sum(x: TensorInfo, axis: number[]): TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  depthToSpace(x: TensorInfo, blockSize: number): TensorInfo {
    return this.run('DepthToSpace', { x }, { blockSize, dataFormat: 'NHWC' });
  }

  /** Stride-1-or-more convolution with explicit per-side pads (all >= 0). */
  conv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    pads: { top: number; bottom: number; left: number; right: number },
    dilations: [number, number] = [1, 1],
  ): TensorInfo {
    return this.run(
      'Conv2D',
      { x, filter },
      {
        strides,
        pad: explicitPad(pads),
        dataFormat: 'NHWC',
        dilations,
        dimRoundingMode: undefined,
      },
    );
  }

  depthwiseConv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    pads: { top: number; bottom: number; left: number; right: number },
    dilations: [number, number] = [1, 1],
  ): TensorInfo {
    return this.run(
      'DepthwiseConv2dNative',
      { x, filter },
      { strides, pad: explicitPad(pads), dataFormat: 'NHWC', dilations, dimRoundingMode: undefined },
    );
  }
}

function explicitPad(p: { top: number; bottom: number; left: number; right: number }): number[][] {
  return [
    [0, 0],
    [p.top, p.bottom],
    [p.left, p.right],
    [0, 0],
  ];
}

/** Runs `body` in a fresh scope; intermediates are freed whether it returns or throws. */
export function withKernelScope(backendName: string, backend: unknown, body: (scope: KernelScope) => TensorInfo): TensorInfo {
  const scope = new KernelScope(backendName, backend as KernelBackend);
  try {
    return scope.close(body(scope));
  } catch (e) {
    scope.dispose();
    throw e;
  }
}

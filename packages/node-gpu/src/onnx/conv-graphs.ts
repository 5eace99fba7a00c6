/**
 * Convolutions as single-purpose ONNX graphs for ONNX Runtime's CPU kernels, in tfjs' layouts (NHWC activations,
 * HWIO `[kh, kw, ci, co]` filters) so that the wasm heap's tensors go in and come out as they are:
 *
 * - a `k×k` convolution as a GEMM over its windows: the k·k shifted (strided) views of the zero-padded input,
 *   concatenated along channels (`[N·OH·OW, k·k·Ci]`, the filter's own row order), times the filter as a
 *   `[k·k·Ci, Co]` matrix; a 1×1 convolution is the GEMM alone;
 * - the weight gradient as windowsᵀ · dy (ONNX Runtime fuses the transpose into the GEMM);
 * - the input gradient of a stride-1 convolution as the same GEMM over dy's windows with the filter flipped and
 *   its channels swapped; of a strided 1×1 as dy · Wᵀ spread onto every `s`-th pixel; of a strided `k×k` as
 *   ConvTranspose (NCHW inside).
 *
 * The filter is a graph input (a training step's weights change every step), so ONNX Runtime cannot pre-pack it.
 */
import type { ConvGeometry } from '@fastts/core/kernels';
import { attr, encodeOnnxModel, OnnxGraphBuilder } from '@fastts/core/onnx';

/** The op a graph computes; `forward` may fuse a bias and relu (act 1) or relu6 (act 2). */
export type ConvGraphOp = 'forward' | 'inputGradient' | 'filterGradient';

/**
 * A graph: its ONNX bytes, inputs (`a`, `b` and for a fused bias `bias`) and output (`out`) with their shapes. The
 * output's shape is the result's memory layout, 2-d where a GEMM writes it (`[N·OH·OW, Co]` for y): the GEMM then
 * writes the caller's buffer itself, with no copy and no intermediate of that size.
 */
export interface ConvGraph {
  model: Uint8Array;
  inputs: Array<{ name: string; dims: number[] }>;
  outputDims: number[];
}

const FLOAT = 1;

/** A graph under construction on core's builder: `op` names its output (`out` for the result) and takes plain attributes. */
class Graph extends OnnxGraphBuilder {
  ints(values: readonly number[]): string {
    return this.int64Constant('c', values);
  }

  float(value: number): string {
    return this.constant('c', [value], []);
  }

  op(opType: string, input: string[], attrs: Record<string, number | number[]> = {}, output = 'v'): string {
    const typed = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, Array.isArray(v) ? attr.ints(v) : attr.int(v)]));
    return this.node(opType, output, input, [], typed).name;
  }

  model(inputs: Array<{ name: string; dims: number[] }>, output: string, outputDims: number[]): ConvGraph {
    const info = (name: string, dims: number[]) => ({
      name,
      type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
    });
    const model = encodeOnnxModel({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      producerName: 'fastts',
      producerVersion: '0',
      metadataProps: [],
      graph: {
        name: 'conv',
        node: this.nodes,
        initializer: this.initializers,
        input: inputs.map((i) => info(i.name, i.dims)),
        output: [info(output, outputDims)],
      },
    });
    return { model, inputs, outputDims };
  }
}

/**
 * `[N·OH·OW, kh·kw·C]`: the windows of NHWC `x` ([N, H, W, C]) for a kh×kw convolution with the given stride and
 * leading pads producing OH×OW, in (kh, kw, C) order.
 */
function windows(
  g: Graph,
  x: string,
  n: number,
  [h, w, c]: [number, number, number],
  [kh, kw]: [number, number],
  [sh, sw]: [number, number],
  [pt, pl]: [number, number],
  [oh, ow]: [number, number],
): string {
  const spanH = (oh - 1) * sh + 1;
  const spanW = (ow - 1) * sw + 1;
  const pb = Math.max(0, spanH + kh - 1 - pt - h);
  const pr = Math.max(0, spanW + kw - 1 - pl - w);
  const padded = pt + pl + pb + pr > 0 ? g.op('Pad', [x, g.ints([0, pt, pl, 0, 0, pb, pr, 0])]) : x;
  const parts: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const whole = kh === 1 && kw === 1 && sh === 1 && sw === 1 && spanH === h + pt + pb && spanW === w + pl + pr;
      parts.push(
        whole
          ? padded
          : g.op('Slice', [padded, g.ints([i, j]), g.ints([i + spanH, j + spanW]), g.ints([1, 2]), g.ints([sh, sw])]),
      );
    }
  }
  const cat = parts.length === 1 ? parts[0]! : g.op('Concat', parts, { axis: 3 });
  return g.op('Reshape', [cat, g.ints([n * oh * ow, kh * kw * c])]);
}

/** The filter [kh, kw, ci, co] as the filter of the input gradient's stride-1 convolution: flipped, [kh, kw, co, ci]. */
function flippedTransposed(g: Graph, w: string, kh: number, kw: number): string {
  const flipped = g.op('Slice', [w, g.ints([kh - 1, kw - 1]), g.ints([-kh - 1, -kw - 1]), g.ints([0, 1]), g.ints([-1, -1])]);
  return g.op('Transpose', [flipped], { perm: [0, 1, 3, 2] });
}

/** The graph of `op` for geometry `geo` (forward: with a `bias` input when `bias`, then relu/relu6 for act 1/2). */
export function convGraph(op: ConvGraphOp, geo: ConvGeometry, bias = false, act: 0 | 1 | 2 = 0): ConvGraph {
  const { batch: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = geo;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = geo;
  const xDims = [n, h, w, ci];
  const wDims = [kh, kw, ci, co];
  const yDims = [n, oh, ow, co];
  const g = new Graph();
  if (op === 'forward') {
    // the last node writes the caller's buffer: [N·OH·OW, Co] is y's memory
    const cols = windows(g, 'a', n, [h, w, ci], [kh, kw], [sh, sw], [pt, pl], [oh, ow]);
    const filter = g.op('Reshape', ['b', g.ints([kh * kw * ci, co])]);
    const last = (step: 'mm' | 'bias' | 'act'): boolean =>
      step === 'act' || (step === 'bias' && act === 0) || (step === 'mm' && !bias && act === 0);
    let y = g.op('MatMul', [cols, filter], {}, last('mm') ? 'out' : undefined);
    if (bias) y = g.op('Add', [y, 'bias'], {}, last('bias') ? 'out' : undefined);
    if (act === 1) y = g.op('Relu', [y], {}, 'out');
    if (act === 2) y = g.op('Clip', [y, g.float(0), g.float(6)], {}, 'out');
    const inputs = [{ name: 'a', dims: xDims }, { name: 'b', dims: wDims }, ...(bias ? [{ name: 'bias', dims: [co] }] : [])];
    return g.model(inputs, y, [n * oh * ow, co]);
  }
  if (op === 'filterGradient') {
    const cols = windows(g, 'a', n, [h, w, ci], [kh, kw], [sh, sw], [pt, pl], [oh, ow]);
    const dy = g.op('Reshape', ['b', g.ints([n * oh * ow, co])]);
    const dw = g.op('MatMul', [g.op('Transpose', [cols], { perm: [1, 0] }), dy], {}, 'out');
    return g.model(
      [
        { name: 'a', dims: xDims },
        { name: 'b', dims: yDims },
      ],
      dw,
      [kh * kw * ci, co],
    );
  }
  const inputs = [
    { name: 'a', dims: yDims },
    { name: 'b', dims: wDims },
  ];
  if (sh === 1 && sw === 1) {
    // dx = dy (padded by k-1-p) correlated with the flipped filter, channels swapped
    const cols = windows(g, 'a', n, [oh, ow, co], [kh, kw], [1, 1], [kh - 1 - pt, kw - 1 - pl], [h, w]);
    const filter = g.op('Reshape', [flippedTransposed(g, 'b', kh, kw), g.ints([kh * kw * co, ci])]);
    return g.model(inputs, g.op('MatMul', [cols, filter], {}, 'out'), [n * h * w, ci]);
  }
  if (kh === 1 && kw === 1) {
    // dx = dy · Wᵀ on every s-th pixel (pads are 0 for a 1×1 convolution), zeros elsewhere
    const wt = g.op('Transpose', [g.op('Reshape', ['b', g.ints([ci, co])])], { perm: [1, 0] });
    const d = g.op('Reshape', [
      g.op('MatMul', [g.op('Reshape', ['a', g.ints([n * oh * ow, co])]), wt]),
      g.ints([n, oh, 1, ow, 1, ci]),
    ]);
    const spread = g.op('Pad', [d, g.ints([0, 0, 0, 0, 0, 0, 0, 0, sh - 1, 0, sw - 1, 0])]);
    const full = g.op('Reshape', [spread, g.ints([n, oh * sh, ow * sw, ci])]);
    const dx = g.op('Slice', [full, g.ints([0, 0]), g.ints([h, w]), g.ints([1, 2])], {}, 'out');
    return g.model(inputs, dx, xDims);
  }
  // strided k×k: ConvTranspose in NCHW; pads and output_padding reproduce the forward geometry
  const pb = Math.max(0, (oh - 1) * sh + kh - h - pt);
  const pr = Math.max(0, (ow - 1) * sw + kw - w - pl);
  const dx = g.op(
    'ConvTranspose',
    [g.op('Transpose', ['a'], { perm: [0, 3, 1, 2] }), g.op('Transpose', ['b'], { perm: [3, 2, 0, 1] })],
    {
      strides: [sh, sw],
      pads: [pt, pl, pb, pr],
      output_padding: [h - ((oh - 1) * sh + kh - pt - pb), w - ((ow - 1) * sw + kw - pl - pr)],
    },
  );
  return g.model(inputs, g.op('Transpose', [dx], { perm: [0, 2, 3, 1] }, 'out'), xDims);
}

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
import { attr, encodeOnnxModel, OnnxGraphBuilder, type AttrValue } from '@fastts/core/onnx';

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

/** The domain of ONNX Runtime's NCHWc ops (CPU execution provider). */
const NCHWC_DOMAIN = 'com.microsoft.nchwc';

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

  /** A node of ONNX Runtime's blocked-layout (NCHWc) CPU ops, which its graph optimizer otherwise inserts itself. */
  nchwc(opType: string, input: string[], attrs: Record<string, AttrValue> = {}, output = 'v'): string {
    const name = this.node(opType, output, input, [], attrs).name;
    this.nodes[this.nodes.length - 1]!.domain = NCHWC_DOMAIN;
    return name;
  }

  model(inputs: Array<{ name: string; dims: number[] }>, output: string, outputDims: number[]): ConvGraph {
    const info = (name: string, dims: number[]) => ({
      name,
      // a negative size: not known before the run (a symbolic dimension)
      type: {
        tensorType: {
          elemType: FLOAT,
          shape: { dim: dims.map((d, i) => (d < 0 ? { dimParam: `${name}_${i}` } : { dimValue: d })) },
        },
      },
    });
    const model = encodeOnnxModel({
      irVersion: 8,
      opsetImport: [
        { domain: '', version: 17 },
        ...(this.nodes.some((n) => n.domain === NCHWC_DOMAIN) ? [{ domain: NCHWC_DOMAIN, version: 1 }] : []),
      ],
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

/**
 * A k×k convolution's forward (any stride) or a stride-1 one's input gradient on ONNX Runtime's blocked direct
 * convolution (the `com.microsoft.nchwc` ops its graph optimizer inserts for constant filters), with the filter as an
 * input: the graph reorders the HWIO filter into the kernel's OIHWBiBo blocks itself (a transpose of the filter,
 * cheap next to the convolution), flipped and with its channels swapped for the input gradient; activations go in
 * and out channels-last (NHWC). `block` is MLAS' NCHWc block size ({@link nchwcBlockGraph}); both channel counts must
 * be multiples of it.
 */
export function nchwcConvGraph(
  op: 'forward' | 'inputGradient',
  geo: ConvGeometry,
  block: number,
  bias = false,
  act: 0 | 1 | 2 = 0,
): ConvGraph {
  const { batch: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = geo;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = geo;
  const k = kh * kw;
  const g = new Graph();
  // HWIO as [K, I/B, B, O/B, B]
  const blocks = g.op('Reshape', ['b', g.ints([k, ci / block, block, co / block, block])]);
  let filter: string;
  let conv: Record<string, AttrValue>;
  let input: number[];
  let output: number[];
  if (op === 'forward') {
    // OIHWBiBo: [O/B, I/B, K, Bi, Bo]
    filter = g.op('Reshape', [g.op('Transpose', [blocks], { perm: [3, 1, 0, 2, 4] }), g.ints([co, ci, kh, kw])]);
    const pb = Math.max(0, (oh - 1) * sh + kh - h - pt);
    const pr = Math.max(0, (ow - 1) * sw + kw - w - pl);
    conv = { kernel_shape: attr.ints([kh, kw]), strides: attr.ints([sh, sw]), pads: attr.ints([pt, pl, pb, pr]) };
    input = [h, w, ci];
    output = [oh, ow, co];
  } else {
    // dx = dy padded by k-1-p (p the forward's pads) correlated with the flipped filter, O and I swapped
    const flipped = g.op('Slice', [blocks, g.ints([k - 1]), g.ints([-k - 1]), g.ints([0]), g.ints([-1])]);
    filter = g.op('Reshape', [g.op('Transpose', [flipped], { perm: [1, 3, 0, 4, 2] }), g.ints([ci, co, kh, kw])]);
    const pb = (oh - 1) * sh + kh - h - pt;
    const pr = (ow - 1) * sw + kw - w - pl;
    conv = { kernel_shape: attr.ints([kh, kw]), pads: attr.ints([kh - 1 - pt, kw - 1 - pl, kh - 1 - pb, kw - 1 - pr]) };
    input = [oh, ow, co];
    output = [h, w, ci];
  }
  if (act === 1) conv.activation = attr.string('Relu');
  if (act === 2) Object.assign(conv, { activation: attr.string('Clip'), activation_params: attr.floats([0, 6]) });
  const x = g.nchwc('ReorderInput', ['a'], { channels_last: attr.int(1) });
  const y = g.nchwc('Conv', bias ? [x, filter, 'bias'] : [x, filter], conv);
  const out = g.nchwc('ReorderOutput', [y], { channels: attr.int(output[2]!), channels_last: attr.int(1) }, 'out');
  const inputs = [
    { name: 'a', dims: [n, ...input] },
    { name: 'b', dims: [kh, kw, ci, co] },
    ...(bias ? [{ name: 'bias', dims: [co] }] : []),
  ];
  return g.model(inputs, out, [n, ...output]);
}

/**
 * A probe of MLAS' NCHWc block size (16 with AVX-512, 8 with AVX2 or NEON): ReorderInput pads 4 channels to one
 * block, so the output of this graph (input `a` `[1, 1, 1, 4]`, channels-last) has shape `[1, block, 1, 1]`.
 */
export function nchwcBlockGraph(): ConvGraph {
  const g = new Graph();
  const out = g.nchwc('ReorderInput', ['a'], { channels_last: attr.int(1) }, 'out');
  return g.model([{ name: 'a', dims: [1, 1, 1, 4] }], out, [1, -1, 1, 1]);
}

/**
 * A small builder for ONNX graphs: named float32/int64 constants (initializers), nodes with typed attributes, and
 * values that carry their shape without the batch axis (`[C, H, W]` for images, `[F]` for features), so that
 * emitters can compute explicit paddings and check widths. The batch axis stays symbolic (`N`).
 */
import { encodeUtf8 } from '../weights/text.js';
import { OnnxAttributeType, OnnxDataType, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './proto.js';

/** A value of the graph: its name and its shape without the batch axis. */
export interface OnnxValue {
  readonly name: string;
  readonly shape: readonly number[];
}

/** An attribute value, tagged with its ONNX type. */
export type AttrValue =
  | { readonly int: number }
  | { readonly ints: readonly number[] }
  | { readonly float: number }
  | { readonly floats: readonly number[] }
  | { readonly string: string };

/** Attribute constructors: `attr.ints([1, 1])`, `attr.int(1)`, `attr.float(1e-5)`. */
export const attr = {
  int: (v: number): AttrValue => ({ int: v }),
  ints: (v: readonly number[]): AttrValue => ({ ints: v }),
  float: (v: number): AttrValue => ({ float: v }),
  floats: (v: readonly number[]): AttrValue => ({ floats: v }),
  string: (v: string): AttrValue => ({ string: v }),
};

function toAttribute(name: string, v: AttrValue): OnnxAttribute {
  if ('int' in v) return { name, type: OnnxAttributeType.INT, i: v.int };
  if ('ints' in v) return { name, type: OnnxAttributeType.INTS, ints: [...v.ints] };
  if ('float' in v) return { name, type: OnnxAttributeType.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: OnnxAttributeType.FLOATS, floats: [...v.floats] };
  return { name, type: OnnxAttributeType.STRING, s: encodeUtf8(v.string) };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian bytes of typed data (a copy, so that later changes to `data` do not leak into the model). */
function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  return out;
}

/** Collects nodes and initializers; names are made unique by suffixes. */
export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly used = new Set<string>();

  /** A name not used yet, `base` itself when free. */
  uniqueName(base: string): string {
    let name = base || 'v';
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Reserves a name given from outside (a graph input). */
  reserve(name: string): string {
    if (this.used.has(name)) throw new Error(`ONNX graph: the name '${name}' is already used`);
    this.used.add(name);
    return name;
  }

  /** Adds a float32 constant of shape `dims`; returns its name. */
  constant(name: string, data: Float32Array | readonly number[], dims: readonly number[]): string {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new Error(`ONNX constant '${name}': ${values.length} values for shape [${dims.join(',')}]`);
    const unique = this.uniqueName(name);
    this.initializers.push({ name: unique, dims: [...dims], dataType: OnnxDataType.FLOAT, rawData: littleEndianBytes(values) });
    return unique;
  }

  /** Adds an int64 constant (indices, shapes); returns its name. */
  int64Constant(name: string, data: readonly number[], dims: readonly number[] = [data.length]): string {
    const unique = this.uniqueName(name);
    const values = BigInt64Array.from(data.map((v) => BigInt(v)));
    this.initializers.push({ name: unique, dims: [...dims], dataType: OnnxDataType.INT64, rawData: littleEndianBytes(values) });
    return unique;
  }

  /**
   * Adds a node `opType(inputs)` whose single output is named after `name` and has `shape` (without the batch axis).
   */
  node(
    opType: string,
    name: string,
    inputs: readonly string[],
    shape: readonly number[],
    attrs: Record<string, AttrValue> = {},
  ): OnnxValue {
    const output = this.uniqueName(name);
    this.nodes.push({
      name: output,
      opType,
      input: [...inputs],
      output: [output],
      attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    });
    return { name: output, shape: [...shape] };
  }
}

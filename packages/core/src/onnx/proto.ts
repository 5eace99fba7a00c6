/**
 * The part of ONNX's protobuf schema (onnx/onnx.proto, IR version 8) that an exported image classifier uses, as a
 * protobufjs JSON descriptor, with typed encode/decode. Field numbers are the schema's; names are camelCase (the wire
 * format only knows the numbers). Messages and fields fastts never writes (sparse tensors, training info, functions,
 * sequence/map types) are left out: decoding skips them.
 */
import protobuf from 'protobufjs/light.js';

/** `TensorProto.DataType` values used here. */
export const OnnxDataType = { FLOAT: 1, INT64: 7 } as const;

/** `AttributeProto.AttributeType` values used here. */
export const OnnxAttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** A key/value pair (`StringStringEntryProto`), as in `ModelProto.metadata_props`. */
export interface OnnxStringEntry {
  key: string;
  value: string;
}

/** `TensorProto`: a named constant (an initializer), its data little-endian in `rawData`. */
export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

/** `AttributeProto`: one of `f`, `i`, `s`, `floats`, `ints`, as `type` says. */
export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

/** `NodeProto`: one operator application. */
export interface OnnxNode {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
  domain?: string;
}

/** A dimension of a `TensorShapeProto`: a number, or a symbolic name such as `N` for the batch. */
export type OnnxDim = { dimValue: number } | { dimParam: string };

/** `ValueInfoProto` of a tensor: name, element type and shape. */
export interface OnnxValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: OnnxDim[] } } };
  docString?: string;
}

/** `GraphProto`. */
export interface OnnxGraph {
  name: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  docString?: string;
}

/** `ModelProto`. */
export interface OnnxModel {
  irVersion: number;
  opsetImport: Array<{ domain: string; version: number }>;
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: OnnxGraph;
  metadataProps: OnnxStringEntry[];
}

type Fields = Record<string, { type: string; id: number; rule?: 'repeated'; options?: { packed: boolean } }>;
const repeated = (type: string, id: number): Fields[string] => ({ type, id, rule: 'repeated' });

const SCHEMA: Record<string, protobuf.IType> = {
  ModelProto: {
    fields: {
      irVersion: { type: 'int64', id: 1 },
      producerName: { type: 'string', id: 2 },
      producerVersion: { type: 'string', id: 3 },
      domain: { type: 'string', id: 4 },
      modelVersion: { type: 'int64', id: 5 },
      docString: { type: 'string', id: 6 },
      graph: { type: 'GraphProto', id: 7 },
      opsetImport: repeated('OperatorSetIdProto', 8),
      metadataProps: repeated('StringStringEntryProto', 14),
    },
  },
  OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
  StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
  GraphProto: {
    fields: {
      node: repeated('NodeProto', 1),
      name: { type: 'string', id: 2 },
      initializer: repeated('TensorProto', 5),
      docString: { type: 'string', id: 10 },
      input: repeated('ValueInfoProto', 11),
      output: repeated('ValueInfoProto', 12),
      valueInfo: repeated('ValueInfoProto', 13),
    },
  },
  NodeProto: {
    fields: {
      input: repeated('string', 1),
      output: repeated('string', 2),
      name: { type: 'string', id: 3 },
      opType: { type: 'string', id: 4 },
      attribute: repeated('AttributeProto', 5),
      docString: { type: 'string', id: 6 },
      domain: { type: 'string', id: 7 },
    },
  },
  AttributeProto: {
    fields: {
      name: { type: 'string', id: 1 },
      f: { type: 'float', id: 2 },
      i: { type: 'int64', id: 3 },
      s: { type: 'bytes', id: 4 },
      floats: { ...repeated('float', 7), options: { packed: true } },
      ints: { ...repeated('int64', 8), options: { packed: true } },
      docString: { type: 'string', id: 13 },
      type: { type: 'int32', id: 20 },
    },
  },
  TensorProto: {
    fields: {
      dims: { ...repeated('int64', 1), options: { packed: true } },
      dataType: { type: 'int32', id: 2 },
      floatData: { ...repeated('float', 4), options: { packed: true } },
      int64Data: { ...repeated('int64', 7), options: { packed: true } },
      name: { type: 'string', id: 8 },
      rawData: { type: 'bytes', id: 9 },
      docString: { type: 'string', id: 12 },
    },
  },
  ValueInfoProto: {
    fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 }, docString: { type: 'string', id: 3 } },
  },
  TypeProto: {
    fields: { tensorType: { type: 'Tensor', id: 1 }, denotation: { type: 'string', id: 6 } },
    nested: {
      Tensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
    },
  },
  TensorShapeProto: {
    fields: { dim: repeated('Dimension', 1) },
    nested: {
      Dimension: {
        oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
        fields: {
          dimValue: { type: 'int64', id: 1 },
          dimParam: { type: 'string', id: 2 },
          denotation: { type: 'string', id: 3 },
        },
      },
    },
  },
};

let modelType: protobuf.Type | undefined;
function model(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON({ nested: { onnx: { nested: SCHEMA } } }).lookupType('onnx.ModelProto');
  return modelType;
}

/** Serializes a model to the bytes of an `.onnx` file. */
export function encodeOnnxModel(m: OnnxModel): Uint8Array {
  const type = model();
  return type.encode(type.fromObject(m)).finish();
}

/**
 * Parses the bytes of an `.onnx` file (the fields listed in this module; others are skipped). 64-bit integers
 * come back as numbers; tensor data as views on `bytes`.
 */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModel {
  const type = model();
  const msg = type.decode(bytes);
  return type.toObject(msg, { longs: Number, defaults: true, arrays: true }) as unknown as OnnxModel;
}

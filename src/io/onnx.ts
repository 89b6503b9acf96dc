// An ONNX model as bytes: the part of onnx.proto a small graph of standard
// operators needs (ModelProto, GraphProto, NodeProto, TensorProto,
// ValueInfoProto), written with the wire-format writer in protobuf.ts. The
// field numbers are those of onnx.proto; what the graph computes is decided
// elsewhere (src/params/onnx-model.ts).

import { ProtoMessage } from './protobuf.js';

/** Element types the graphs use, with their TensorProto.DataType numbers. */
export const ONNX_TYPES = { float32: 1, int64: 7, bool: 9, float64: 11 } as const;
export type OnnxType = keyof typeof ONNX_TYPES;

/** A constant tensor of the graph (an initializer). */
export interface OnnxTensor {
  name: string;
  type: 'float32' | 'float64' | 'int64';
  dims: number[];
  values: readonly number[] | Float64Array | Float32Array;
}

/** A graph input or output: its element type and shape (a string names a dimension of any size). */
export interface OnnxValue {
  name: string;
  type: OnnxType;
  dims: (number | string)[];
  docString?: string;
}

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes (Cast's `to`, a reduction's `keepdims`) and lists of integers (`axes`). */
  attributes?: Record<string, number | number[]>;
}

export interface OnnxModel {
  irVersion: number;
  opset: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  metadata: [string, string][];
  graph: {
    name: string;
    docString: string;
    nodes: OnnxNode[];
    initializers: OnnxTensor[];
    inputs: OnnxValue[];
    outputs: OnnxValue[];
  };
}

/** ModelProto bytes: what a .onnx file holds. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const graph = new ProtoMessage();
  for (const node of model.graph.nodes) graph.message(1, nodeProto(node));
  graph.string(2, model.graph.name);
  for (const tensor of model.graph.initializers) graph.message(5, tensorProto(tensor));
  graph.string(10, model.graph.docString);
  for (const input of model.graph.inputs) graph.message(11, valueInfoProto(input));
  for (const output of model.graph.outputs) graph.message(12, valueInfoProto(output));

  const proto = new ProtoMessage()
    .int(1, model.irVersion)
    .string(2, model.producerName)
    .string(3, model.producerVersion)
    .string(6, model.docString)
    .message(7, graph)
    .message(8, new ProtoMessage().string(1, '').int(2, model.opset));
  for (const [key, value] of model.metadata) proto.message(14, new ProtoMessage().string(1, key).string(2, value));
  return proto.bytes();
}

function nodeProto(node: OnnxNode): ProtoMessage {
  const proto = new ProtoMessage();
  for (const input of node.inputs) proto.string(1, input);
  for (const output of node.outputs) proto.string(2, output);
  proto.string(3, node.outputs[0]);
  proto.string(4, node.op);
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    // AttributeProto: name 1, i 3 (type INT = 2), ints 8 (type INTS = 7), type 20.
    const attribute = new ProtoMessage().string(1, name);
    if (typeof value === 'number') attribute.int(3, value).int(20, 2);
    else {
      for (const item of value) attribute.int(8, item);
      attribute.int(20, 7);
    }
    proto.message(5, attribute);
  }
  return proto;
}

function tensorProto(tensor: OnnxTensor): ProtoMessage {
  const proto = new ProtoMessage();
  for (const dim of tensor.dims) proto.int(1, dim);
  proto.int(2, ONNX_TYPES[tensor.type]);
  proto.string(8, tensor.name);
  proto.bytesField(9, rawData(tensor));
  return proto;
}

/** TensorProto.raw_data: the values in little-endian order, as onnx.proto requires. */
function rawData(tensor: OnnxTensor): Uint8Array {
  const size = tensor.type === 'float32' ? 4 : 8;
  const bytes = new Uint8Array(tensor.values.length * size);
  const view = new DataView(bytes.buffer);
  tensor.values.forEach((value, i) => {
    if (tensor.type === 'float32') view.setFloat32(i * 4, value, true);
    else if (tensor.type === 'float64') view.setFloat64(i * 8, value, true);
    else view.setBigInt64(i * 8, BigInt(value), true);
  });
  return bytes;
}

function valueInfoProto(value: OnnxValue): ProtoMessage {
  const shape = new ProtoMessage();
  for (const dim of value.dims) {
    // TensorShapeProto.Dimension: dim_value 1, dim_param 2.
    shape.message(1, typeof dim === 'number' ? new ProtoMessage().int(1, dim) : new ProtoMessage().string(2, dim));
  }
  // TypeProto.tensor_type 1: TypeProto.Tensor { elem_type 1, shape 2 }.
  const type = new ProtoMessage().message(1, new ProtoMessage().int(1, ONNX_TYPES[value.type]).message(2, shape));
  const proto = new ProtoMessage().string(1, value.name).message(2, type);
  if (value.docString !== undefined) proto.string(3, value.docString);
  return proto;
}

import { ProtoWriter } from './proto_writer.js';

/**
 * Builds an ONNX model (onnx.proto3: ModelProto > GraphProto > NodeProto,
 * TensorProto, ValueInfoProto) with just what an exported ViT needs: float32
 * and int64 initializers, nodes with int / ints / float attributes, and
 * float32 inputs and outputs of fixed shape. Field numbers are the ones in
 * onnx/onnx.proto.
 */

export type AttributeValue = { int: number } | { ints: number[] } | { float: number };

interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes: Record<string, AttributeValue>;
}

interface Initializer {
  name: string;
  dims: number[];
  dataType: number;
  raw: Uint8Array;
}

export interface ValueSpec {
  name: string;
  dims: number[];
}

// TensorProto.DataType
const FLOAT = 1;
const INT64 = 7;
// AttributeProto.AttributeType
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;
/** IR version 7 is the one that goes with opset 13. */
const IR_VERSION = 7;

export class OnnxGraph {
  private readonly nodes: NodeSpec[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  private unique(base: string): string {
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /** A float32 constant (weights); the bytes are referenced, not copied. */
  float32(name: string, dims: number[], data: Float32Array): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims, dataType: FLOAT, raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return unique;
  }

  /** A float32 scalar constant. */
  scalar(name: string, value: number): string {
    return this.float32(name, [], Float32Array.of(value));
  }

  /** An int64 vector constant (shapes for Reshape), or a scalar when `values` is a number (an index for Gather). */
  int64(name: string, values: number[] | number): string {
    const list = typeof values === 'number' ? [values] : values;
    const data = BigInt64Array.from(list.map((v) => BigInt(v)));
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims: typeof values === 'number' ? [] : [list.length], dataType: INT64, raw: new Uint8Array(data.buffer) });
    return unique;
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, outputName?: string): string {
    const output = this.unique(outputName ?? `${opType.toLowerCase()}`);
    this.nodes.push({ opType, inputs, outputs: [output], name: this.unique(`n_${output}`), attributes });
    return output;
  }

  /** Serializes the graph as a ModelProto (default domain, the given opset). */
  encode(options: { name: string; inputs: ValueSpec[]; outputs: ValueSpec[]; opset: number; producer: string }): Uint8Array {
    const graph = new ProtoWriter();
    for (const node of this.nodes) graph.message(1, encodeNode(node));
    graph.string(2, options.name);
    for (const init of this.initializers) graph.message(5, encodeTensor(init));
    for (const input of options.inputs) graph.message(11, encodeValueInfo(input));
    for (const output of options.outputs) graph.message(12, encodeValueInfo(output));
    const opset = new ProtoWriter().string(1, '').varint(2, options.opset);
    return new ProtoWriter().varint(1, IR_VERSION).string(2, options.producer).message(7, graph).message(8, opset).finish();
  }
}

function encodeNode(node: NodeSpec): ProtoWriter {
  const w = new ProtoWriter();
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  w.string(3, node.name);
  w.string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes)) w.message(5, encodeAttribute(name, value));
  return w;
}

function encodeAttribute(name: string, value: AttributeValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if ('float' in value) w.float(2, value.float).varint(20, ATTR_FLOAT);
  else if ('int' in value) w.varint(3, value.int).varint(20, ATTR_INT);
  else {
    for (const v of value.ints) w.varint(8, v);
    w.varint(20, ATTR_INTS);
  }
  return w;
}

function encodeTensor(t: Initializer): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.varint(1, d);
  w.varint(2, t.dataType);
  w.string(8, t.name);
  w.bytes(9, t.raw);
  return w;
}

function encodeValueInfo(v: ValueSpec): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) shape.message(1, new ProtoWriter().varint(1, d));
  const tensorType = new ProtoWriter().varint(1, FLOAT).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

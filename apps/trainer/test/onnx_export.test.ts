// The ONNX export behind `vit bench --compare-onnx`, checked without
// onnxruntime: the protobuf writer against hand-encoded bytes, and the
// exported vit-micro graph decoded and evaluated op by op (a small
// interpreter on tfjs's cpu backend) against the reference logits.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseNpy, setupBackend } from '@vitkit/core';
import { createViT, loadViT, type VisionTransformer } from '@vitkit/vit';
import { ProtoWriter } from '../src/bench/onnx/proto_writer.js';
import { ONNX_INPUT, ONNX_OPSET, ONNX_OUTPUT, exportViTToOnnx } from '../src/bench/onnx/export_vit.js';

const MICRO = join(resolve(fileURLToPath(new URL('../../../', import.meta.url))), 'fixtures/reference/vit-micro');

function npy(name: string): tf.Tensor {
  const a = parseNpy(new Uint8Array(readFileSync(join(MICRO, name))));
  return tf.tensor(a.data as Float32Array, a.shape);
}

// --- a minimal protobuf reader: fields by number, in order ---------------------------------
type Field = { wire: 0; value: bigint } | { wire: 2; bytes: Uint8Array } | { wire: 5; bytes: Uint8Array } | { wire: 1; bytes: Uint8Array };

function decode(buf: Uint8Array): Map<number, Field[]> {
  const out = new Map<number, Field[]>();
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    let f: Field;
    if (wire === 0) f = { wire: 0, value: varint() };
    else if (wire === 2) {
      const len = Number(varint());
      f = { wire: 2, bytes: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 5 || wire === 1) {
      const len = wire === 5 ? 4 : 8;
      f = { wire, bytes: buf.subarray(pos, pos + len) };
      pos += len;
    } else throw new Error(`unexpected wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), f]);
  }
  return out;
}

const str = (f: Field | undefined): string => (f && f.wire === 2 ? new TextDecoder().decode(f.bytes) : '');
const int = (f: Field | undefined): number => (f && f.wire === 0 ? Number(BigInt.asIntN(64, f.value)) : 0);
const ints = (fields: Field[] | undefined): number[] => (fields ?? []).map(int);
const messages = (fields: Field[] | undefined): Map<number, Field[]>[] => (fields ?? []).map((f) => decode((f as { bytes: Uint8Array }).bytes));

interface OnnxNode {
  op: string;
  inputs: string[];
  output: string;
  attrs: Map<string, Map<number, Field[]>>;
}

function parseModel(bytes: Uint8Array) {
  const model = decode(bytes);
  const graph = messages(model.get(7))[0]!;
  const opset = messages(model.get(8))[0]!;
  const nodes: OnnxNode[] = messages(graph.get(1)).map((n) => ({
    op: str(n.get(4)?.[0]),
    inputs: (n.get(1) ?? []).map(str),
    output: str(n.get(2)?.[0]),
    attrs: new Map(messages(n.get(5)).map((a) => [str(a.get(1)?.[0]), a])),
  }));
  const initializers = new Map(
    messages(graph.get(5)).map((t) => {
      const dims = ints(t.get(1));
      const raw = (t.get(9)![0] as { bytes: Uint8Array }).bytes.slice();
      const type = int(t.get(2)?.[0]);
      return [str(t.get(8)?.[0]), { dims, type, raw }] as const;
    }),
  );
  const valueInfo = (fields: Field[] | undefined) =>
    messages(fields).map((v) => {
      const tensorType = messages(messages(v.get(2))[0]!.get(1))[0]!;
      const dims = messages(messages(tensorType.get(2))[0]!.get(1)).map((d) => int(d.get(1)?.[0]));
      return { name: str(v.get(1)?.[0]), elemType: int(tensorType.get(1)?.[0]), dims };
    });
  return {
    irVersion: int(model.get(1)?.[0]),
    opset: { domain: str(opset.get(1)?.[0]), version: int(opset.get(2)?.[0]) },
    nodes,
    initializers,
    inputs: valueInfo(graph.get(11)),
    outputs: valueInfo(graph.get(12)),
  };
}

// --- an ONNX interpreter for the ops the exporter emits -------------------------------------
function run(model: ReturnType<typeof parseModel>, feeds: Record<string, tf.Tensor>): tf.Tensor {
  return tf.tidy(() => {
    const env = new Map<string, tf.Tensor | number[]>(Object.entries(feeds));
    for (const [name, t] of model.initializers) {
      if (t.type === 1) env.set(name, tf.tensor(new Float32Array(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength / 4), t.dims));
      else env.set(name, Array.from(new BigInt64Array(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength / 8), Number));
    }
    const tensor = (n: string): tf.Tensor => env.get(n) as tf.Tensor;
    const list = (n: string): number[] => env.get(n) as number[];
    const attrInt = (node: OnnxNode, name: string): number => int(node.attrs.get(name)?.get(3)?.[0]);
    const attrInts = (node: OnnxNode, name: string): number[] => ints(node.attrs.get(name)?.get(8));
    for (const node of model.nodes) {
      const [a, b] = node.inputs as [string, string];
      let y: tf.Tensor;
      switch (node.op) {
        case 'MatMul': y = tf.matMul(tensor(a), tensor(b)); break;
        case 'Add': y = tf.add(tensor(a), tensor(b)); break;
        case 'Sub': y = tf.sub(tensor(a), tensor(b)); break;
        case 'Mul': y = tf.mul(tensor(a), tensor(b)); break;
        case 'Div': y = tf.div(tensor(a), tensor(b)); break;
        case 'Sqrt': y = tf.sqrt(tensor(a)); break;
        case 'Erf': y = tf.erf(tensor(a)); break;
        case 'Identity': y = tensor(a); break;
        case 'Softmax': expect(attrInt(node, 'axis')).toBe(-1); y = tf.softmax(tensor(a)); break;
        case 'ReduceMean': y = tf.mean(tensor(a), attrInts(node, 'axes'), attrInt(node, 'keepdims') === 1); break;
        case 'Reshape': y = tf.reshape(tensor(a), list(b)); break;
        case 'Transpose': y = tf.transpose(tensor(a), attrInts(node, 'perm')); break;
        case 'Concat': y = tf.concat(node.inputs.map(tensor), attrInt(node, 'axis')); break;
        case 'Gather': {
          const index = list(b);
          const t = model.initializers.get(b)!;
          expect(t.dims).toEqual([]); // scalar index: the axis is dropped
          y = tf.gather(tensor(a), tf.scalar(index[0]!, 'int32'), attrInt(node, 'axis'));
          break;
        }
        case 'Slice': {
          const x = tensor(a);
          const [start, end, axis] = [list(node.inputs[1]!)[0]!, list(node.inputs[2]!)[0]!, list(node.inputs[3]!)[0]!];
          const begin = x.shape.map(() => 0);
          const size = x.shape.map(() => -1);
          begin[axis] = start;
          size[axis] = end - start;
          y = tf.slice(x, begin, size);
          break;
        }
        default:
          throw new Error(`unexpected op ${node.op}`);
      }
      env.set(node.output, y);
    }
    return tensor(ONNX_OUTPUT);
  });
}

describe('ProtoWriter', () => {
  it('encodes varints, negative int64, floats, strings and nested messages as protobuf does', () => {
    expect(Array.from(new ProtoWriter().varint(1, 150).finish())).toEqual([0x08, 0x96, 0x01]);
    expect(Array.from(new ProtoWriter().varint(2, 300).finish())).toEqual([0x10, 0xac, 0x02]);
    // -1 as int64: ten bytes of two's complement.
    expect(Array.from(new ProtoWriter().varint(1, -1).finish())).toEqual([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(Array.from(new ProtoWriter().float(2, 1).finish())).toEqual([0x15, 0x00, 0x00, 0x80, 0x3f]);
    expect(Array.from(new ProtoWriter().string(2, 'testing').finish())).toEqual([0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67]);
    const inner = new ProtoWriter().varint(1, 150);
    expect(Array.from(new ProtoWriter().message(3, inner).finish())).toEqual([0x1a, 0x03, 0x08, 0x96, 0x01]);
  });
});

describe('exportViTToOnnx', () => {
  let model: VisionTransformer;

  beforeAll(async () => {
    await setupBackend('cpu');
    model = await loadViT(join(MICRO, 'hf.safetensors'), { config: join(MICRO, 'hf-config.json') });
  });

  it('writes an opset-13 ModelProto with the model`s weights byte for byte', () => {
    const parsed = parseModel(exportViTToOnnx(model, 2));
    expect(parsed.irVersion).toBe(7);
    expect(parsed.opset).toEqual({ domain: '', version: ONNX_OPSET });
    expect(parsed.inputs).toEqual([{ name: ONNX_INPUT, elemType: 1, dims: [2, 32, 32, 3] }]);
    expect(parsed.outputs).toEqual([{ name: ONNX_OUTPUT, elemType: 1, dims: [2, 10] }]);
    const ops = new Set(parsed.nodes.map((n) => n.op));
    for (const op of ops) expect(['MatMul', 'Add', 'Sub', 'Mul', 'Div', 'Sqrt', 'Erf', 'ReduceMean', 'Reshape', 'Transpose', 'Gather', 'Softmax', 'Concat', 'Identity']).toContain(op);
    const head = parsed.initializers.get('head.weight')!;
    expect(head.dims).toEqual([32, 10]);
    expect(Buffer.from(head.raw).equals(Buffer.from(new Uint8Array((model.variables().get('head.weight')!.dataSync() as Float32Array).buffer)))).toBe(true);
    // Every parameter is in the graph once (cls_token as its batch-tiled copy).
    const names = [...parsed.initializers.keys()];
    for (const name of model.variables().keys()) expect(names.filter((n) => n === name || n === `${name}_tiled`)).toHaveLength(1);
  });

  it('computes the reference logits when its graph is evaluated op by op', () => {
    const input = npy('input_nhwc.npy');
    const expected = npy('expected_logits.npy');
    const logits = run(parseModel(exportViTToOnnx(model, 2)), { [ONNX_INPUT]: input });
    expect(logits.shape).toEqual([2, 10]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(logits, expected))).dataSync()[0]!);
    expect(diff).toBeLessThan(1e-4);
    tf.dispose([input, expected, logits]);
  });

  it('rejects a batch size that is not a positive integer', () => {
    expect(() => exportViTToOnnx(model, 0)).toThrow(/positive batch size/);
  });

  it('refuses ViT-family parts it does not write, in one line', () => {
    const clip = createViT({ imageSize: 16, patchSize: 8, embedDim: 8, depth: 1, numHeads: 2, numClasses: 2, preNorm: true, activation: 'quick_gelu' }, {}, { seed: 0 });
    expect(() => exportViTToOnnx(clip, 1)).toThrow(/plain ViTs only; this model has norm_pre, activation quick_gelu/);
    clip.dispose();
  });
});

import { numPrefixTokens, patchGrid } from '@vitkit/core';
import type { VisionTransformer } from '@vitkit/vit';
import { UsageError } from '../../errors.js';
import { OnnxGraph } from './onnx_graph.js';

export const ONNX_INPUT = 'pixels';
export const ONNX_OUTPUT = 'logits';
export const ONNX_OPSET = 13;

/**
 * Writes a VisionTransformer as an ONNX model (opset 13) with the same
 * weights and the same computation, for running it under onnxruntime:
 * input `pixels` [batch, H, W, C] (NHWC float32, what vitkit takes), output
 * `logits` [batch, numClasses] (the pooled features when numClasses is 0).
 *
 * The graph follows the model op for op: the patch embedding as
 * reshape/transpose/MatMul (the internal [P*P*C, D] weight as it is),
 * class/register tokens and position embedding, pre-norm blocks with
 * LayerNorm spelled out (ReduceMean, Sub, Mul, Sqrt, Div), fused qkv split
 * into heads with Transpose + Gather, Softmax, exact (Erf) GELU, then the
 * head. onnxruntime fuses these patterns into its own LayerNorm, GELU and
 * attention kernels when it optimizes the graph, as it would for a model
 * exported from PyTorch. Internal linear weights are [in, out], which is what
 * MatMul wants, so no weight is transposed.
 */
export function exportViTToOnnx(model: VisionTransformer, batch: number): Uint8Array {
  const c = model.config;
  if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`the ONNX export needs a positive batch size, got ${batch}`);
  const family = [
    c.distilled && 'distillation token',
    c.preNorm && 'norm_pre',
    c.layerScaleInit !== null && 'LayerScale',
    c.qkNorm && 'qk-norm',
    c.activation !== 'gelu' && `activation ${c.activation}`,
    (c.pooling === 'map' || c.pooling === 'none') && `pooling ${c.pooling}`,
    (!c.finalNorm || c.fcNorm !== (c.pooling === 'mean')) && 'final norm placement',
  ].filter((part): part is string => typeof part === 'string');
  if (family.length > 0) {
    throw new UsageError(`the ONNX export covers plain ViTs only; this model has ${family.join(', ')}`, 'benchmark it with the tfjs backends');
  }
  const params = new Map([...model.namedParameters()].map(([name, p]) => [name, p.variable]));
  const g = new OnnxGraph();
  const weight = (name: string): string => {
    const v = params.get(name);
    if (!v) throw new UsageError(`the model has no parameter ${name} to export`, 'export a VisionTransformer built by vitkit');
    return g.float32(name, [...v.shape], v.dataSync() as Float32Array);
  };
  const has = (name: string): boolean => params.has(name);

  const [h, w] = c.imageSize;
  const p = c.patchSize;
  const ch = c.inChannels;
  const d = c.embedDim;
  const [gh, gw] = patchGrid(c);
  const patches = gh * gw;
  const prefix = numPrefixTokens(c);
  const tokens = patches + prefix;
  const heads = c.numHeads;
  const dh = d / heads;

  const linear = (x: string, prefixName: string): string => {
    const y = g.op('MatMul', [x, weight(`${prefixName}.weight`)]);
    return has(`${prefixName}.bias`) ? g.op('Add', [y, weight(`${prefixName}.bias`)]) : y;
  };
  const eps = g.scalar('layer_norm_eps', c.layerNormEps);
  const layerNorm = (x: string, prefixName: string): string => {
    const mean = g.op('ReduceMean', [x], { axes: { ints: [-1] }, keepdims: { int: 1 } });
    const centered = g.op('Sub', [x, mean]);
    const variance = g.op('ReduceMean', [g.op('Mul', [centered, centered])], { axes: { ints: [-1] }, keepdims: { int: 1 } });
    const normed = g.op('Div', [centered, g.op('Sqrt', [g.op('Add', [variance, eps])])]);
    return g.op('Add', [g.op('Mul', [normed, weight(`${prefixName}.weight`)]), weight(`${prefixName}.bias`)]);
  };
  const half = g.scalar('half', 0.5);
  const one = g.scalar('one', 1);
  const sqrt2 = g.scalar('sqrt2', Math.SQRT2);
  const gelu = (x: string): string => g.op('Mul', [g.op('Mul', [x, half]), g.op('Add', [g.op('Erf', [g.op('Div', [x, sqrt2])]), one])]);

  // Patch embedding: [B, H, W, C] -> [B*gh, P, gw, P*C] -> [B*gh, gw, P, P*C] -> [B*N, P*P*C] -> tokens [B, N, D].
  let x = g.op('Reshape', [ONNX_INPUT, g.int64('patch_rows', [batch * gh, p, gw, p * ch])]);
  x = g.op('Transpose', [x], { perm: { ints: [0, 2, 1, 3] } });
  x = g.op('Reshape', [x, g.int64('patch_matrix', [batch * patches, p * p * ch])]);
  x = linear(x, 'patch_embed.proj');
  x = g.op('Reshape', [x, g.int64('patch_tokens', [batch, patches, d])]);

  // Class and register tokens in front, position embedding added (to patches only with noEmbedClass).
  const prefixTokens: string[] = [];
  for (const [name, count] of [['cls_token', c.classToken ? 1 : 0], ['reg_token', c.numRegisterTokens]] as const) {
    if (count === 0) continue;
    const data = params.get(name)!.dataSync() as Float32Array;
    const tiled = new Float32Array(batch * data.length);
    for (let b = 0; b < batch; b++) tiled.set(data, b * data.length);
    prefixTokens.push(g.float32(`${name}_tiled`, [batch, count, d], tiled));
  }
  if (c.noEmbedClass) {
    x = g.op('Add', [x, weight('pos_embed')]);
    if (prefixTokens.length > 0) x = g.op('Concat', [...prefixTokens, x], { axis: { int: 1 } });
  } else {
    if (prefixTokens.length > 0) x = g.op('Concat', [...prefixTokens, x], { axis: { int: 1 } });
    x = g.op('Add', [x, weight('pos_embed')]);
  }

  const scale = g.scalar('attention_scale', dh ** -0.5);
  const qkvShape = g.int64('qkv_heads', [batch, tokens, 3, heads, dh]);
  const mergedShape = g.int64('merged_heads', [batch, tokens, d]);
  // Scalar indices: Gather then drops the axis.
  const parts = [0, 1, 2].map((i) => g.int64(`qkv_part_${i}`, i));
  for (let i = 0; i < c.depth; i++) {
    const b = `blocks.${i}`;
    // Attention: qkv [B, T, 3D] -> [3, B, H, T, Dh]; softmax(q k^T * scale) v; heads merged back to [B, T, D].
    const qkv = g.op('Transpose', [g.op('Reshape', [linear(layerNorm(x, `${b}.norm1`), `${b}.attn.qkv`), qkvShape])], { perm: { ints: [2, 0, 3, 1, 4] } });
    const [q, k, v] = parts.map((index) => g.op('Gather', [qkv, index], { axis: { int: 0 } })) as [string, string, string];
    const kT = g.op('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } });
    const probs = g.op('Softmax', [g.op('MatMul', [g.op('Mul', [q, scale]), kT])], { axis: { int: -1 } });
    const context = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: { ints: [0, 2, 1, 3] } }), mergedShape]);
    x = g.op('Add', [x, linear(context, `${b}.attn.proj`)]);
    // MLP: fc1 -> GELU -> fc2.
    x = g.op('Add', [x, linear(gelu(linear(layerNorm(x, `${b}.norm2`), `${b}.mlp.fc1`)), `${b}.mlp.fc2`)]);
  }

  // Head: final norm + class token, or mean of the patch tokens + fc_norm; then the classifier.
  let features: string;
  if (c.pooling === 'token') {
    const normed = layerNorm(x, 'norm');
    features = g.op('Gather', [normed, g.int64('class_token_index', 0)], { axis: { int: 1 } });
  } else {
    const patchTokens = g.op('Slice', [x, g.int64('patch_start', [prefix]), g.int64('patch_end', [tokens]), g.int64('token_axis', [1])]);
    features = layerNorm(g.op('ReduceMean', [patchTokens], { axes: { ints: [1] }, keepdims: { int: 0 } }), 'fc_norm');
  }
  const outputDim = c.numClasses > 0 ? c.numClasses : d;
  const logits = c.numClasses > 0 ? linear(features, 'head') : features;
  g.op('Identity', [logits], {}, ONNX_OUTPUT);

  return g.encode({
    name: 'vitkit_vit',
    producer: 'vitkit',
    opset: ONNX_OPSET,
    inputs: [{ name: ONNX_INPUT, dims: [batch, h, w, ch] }],
    outputs: [{ name: ONNX_OUTPUT, dims: [batch, outputDim] }],
  });
}

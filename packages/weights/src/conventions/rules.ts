import { WeightsFormatError } from '../errors.js';
import { concatRows, reshapeRaw, splitRows, transposeRaw, type RawTensor } from '../raw_tensor.js';
import type { Convention } from './convention.js';

/**
 * Name and layout correspondences between timm and each other convention.
 * A rule maps one timm tensor to one or more foreign tensors (several when
 * the foreign checkpoint keeps query, key and value apart). `{i}` stands for
 * a block index. Rules without a transform are pure renames (no copy).
 */
export interface ConversionContext {
  /** Attention heads, needed to write JAX kernels [D, heads, headDim]. */
  numHeads?: number;
}

export interface Transform {
  toTimm(parts: RawTensor[], name: string): RawTensor;
  fromTimm(t: RawTensor, name: string, ctx: ConversionContext): RawTensor[];
}

export interface Rule {
  timm: string;
  foreign: string[];
  transform?: Transform;
  /** Accepted when reading only (an older spelling); never written. */
  readOnly?: boolean;
}

export interface ConventionRules {
  rules: Rule[];
  /** Foreign tensors with no timm counterpart that are safe to drop when reading (e.g. an unused pooler). */
  dropOnRead: string[];
  /** timm tensors the convention has no place for and drops when writing (ViTModel has no classifier). */
  dropOnWrite: string[];
}

const W = ['weight', 'bias'] as const;

function pair(timm: string, foreign: string): Rule[] {
  return W.map((w) => ({ timm: `${timm}.${w}`, foreign: [`${foreign}.${w}`] }));
}

function rank(t: RawTensor, r: number, name: string, layout: string): void {
  if (t.shape.length !== r) throw new WeightsFormatError(`${name} should be ${layout}, got shape [${t.shape.join(', ')}]`);
}

function heads(ctx: ConversionContext, name: string): number {
  if (!ctx.numHeads) throw new WeightsFormatError(`writing ${name} in the JAX layout needs the number of attention heads`, 'pass numHeads in the config');
  return ctx.numHeads;
}

/** Separate query/key/value tensors <-> timm's fused qkv (rows q|k|v). */
const fuseQkv: Transform = {
  toTimm: (parts, name) => concatRows(parts, name),
  fromTimm: (t, name) => splitRows(t, 3, name),
};

/** Dense kernel [in, out] (JAX) <-> Linear weight [out, in] (PyTorch). */
const denseKernel: Transform = {
  toTimm: ([k], name) => (rank(k!, 2, name, '[in, out]'), transposeRaw(k!, [1, 0])),
  fromTimm: (t, name) => (rank(t, 2, name, '[out, in]'), [transposeRaw(t, [1, 0])]),
};

/** Conv kernel HWIO [P, P, C, D] (JAX) <-> OIHW [D, C, P, P] (PyTorch). */
const convKernel: Transform = {
  toTimm: ([k], name) => (rank(k!, 4, name, '[P, P, C, D]'), transposeRaw(k!, [3, 2, 0, 1])),
  fromTimm: (t, name) => (rank(t, 4, name, '[D, C, P, P]'), [transposeRaw(t, [2, 3, 1, 0])]),
};

/** JAX query/key/value kernels [D, H, Dh] <-> fused torch qkv weight [3*H*Dh, D]. */
const jaxQkvKernel: Transform = {
  toTimm: (parts, name) =>
    concatRows(
      parts.map((k) => {
        rank(k, 3, name, '[D, heads, headDim]');
        const [d, h, dh] = k.shape as [number, number, number];
        return transposeRaw(reshapeRaw(k, [d, h * dh], name), [1, 0]);
      }),
      name,
    ),
  fromTimm: (t, name, ctx) => {
    rank(t, 2, name, '[3*D, D]');
    const h = heads(ctx, name);
    return splitRows(t, 3, name).map((w) => {
      const [out, d] = w.shape as [number, number];
      if (out % h !== 0) throw new WeightsFormatError(`${name}: ${out} attention features do not split into ${h} heads`);
      return reshapeRaw(transposeRaw(w, [1, 0]), [d, h, out / h], name);
    });
  },
};

/** JAX query/key/value biases [H, Dh] <-> fused qkv bias [3*H*Dh]. */
const jaxQkvBias: Transform = {
  toTimm: (parts, name) => concatRows(parts.map((b) => (rank(b, 2, name, '[heads, headDim]'), reshapeRaw(b, [b.data.length], name))), name),
  fromTimm: (t, name, ctx) => {
    rank(t, 1, name, '[3*D]');
    const h = heads(ctx, name);
    return splitRows(t, 3, name).map((b) => {
      if (b.data.length % h !== 0) throw new WeightsFormatError(`${name}: ${b.data.length} attention features do not split into ${h} heads`);
      return reshapeRaw(b, [h, b.data.length / h], name);
    });
  },
};

/** JAX attention output kernel [H, Dh, D] <-> torch Linear weight [D, H*Dh]. */
const jaxOutKernel: Transform = {
  toTimm: ([k], name) => {
    rank(k!, 3, name, '[heads, headDim, D]');
    const [h, dh, d] = k!.shape as [number, number, number];
    return transposeRaw(reshapeRaw(k!, [h * dh, d], name), [1, 0]);
  },
  fromTimm: (t, name, ctx) => {
    rank(t, 2, name, '[D, D]');
    const h = heads(ctx, name);
    const [d, inner] = t.shape as [number, number];
    if (inner % h !== 0) throw new WeightsFormatError(`${name}: ${inner} attention features do not split into ${h} heads`);
    return [reshapeRaw(transposeRaw(t, [1, 0]), [h, inner / h, d], name)];
  },
};

function hfRules(prefix: string, withClassifier: boolean): ConventionRules {
  const layer = `${prefix}encoder.layer.{i}`;
  const attn = `${layer}.attention.attention`;
  const rules: Rule[] = [
    { timm: 'cls_token', foreign: [`${prefix}embeddings.cls_token`] },
    { timm: 'pos_embed', foreign: [`${prefix}embeddings.position_embeddings`] },
    ...pair('patch_embed.proj', `${prefix}embeddings.patch_embeddings.projection`),
    ...pair('blocks.{i}.norm1', `${layer}.layernorm_before`),
    ...W.map((w) => ({ timm: `blocks.{i}.attn.qkv.${w}`, foreign: ['query', 'key', 'value'].map((q) => `${attn}.${q}.${w}`), transform: fuseQkv })),
    ...pair('blocks.{i}.attn.proj', `${layer}.attention.output.dense`),
    ...pair('blocks.{i}.norm2', `${layer}.layernorm_after`),
    ...pair('blocks.{i}.mlp.fc1', `${layer}.intermediate.dense`),
    ...pair('blocks.{i}.mlp.fc2', `${layer}.output.dense`),
    ...pair('norm', `${prefix}layernorm`),
    ...(withClassifier ? pair('head', 'classifier') : []),
  ];
  return {
    rules,
    dropOnRead: [`${prefix}pooler.dense.weight`, `${prefix}pooler.dense.bias`, `${prefix}embeddings.mask_token`],
    dropOnWrite: withClassifier ? [] : ['head.weight', 'head.bias'],
  };
}

const layerTv = 'encoder.layers.encoder_layer_{i}';
const TORCHVISION: ConventionRules = {
  rules: [
    { timm: 'cls_token', foreign: ['class_token'] },
    { timm: 'pos_embed', foreign: ['encoder.pos_embedding'] },
    ...pair('patch_embed.proj', 'conv_proj'),
    ...pair('blocks.{i}.norm1', `${layerTv}.ln_1`),
    { timm: 'blocks.{i}.attn.qkv.weight', foreign: [`${layerTv}.self_attention.in_proj_weight`] },
    { timm: 'blocks.{i}.attn.qkv.bias', foreign: [`${layerTv}.self_attention.in_proj_bias`] },
    ...pair('blocks.{i}.attn.proj', `${layerTv}.self_attention.out_proj`),
    ...pair('blocks.{i}.norm2', `${layerTv}.ln_2`),
    ...pair('blocks.{i}.mlp.fc1', `${layerTv}.mlp.0`),
    ...pair('blocks.{i}.mlp.fc2', `${layerTv}.mlp.3`),
    // torchvision < 0.13 named the MLP layers linear_1 / linear_2.
    ...pair('blocks.{i}.mlp.fc1', `${layerTv}.mlp.linear_1`).map((r) => ({ ...r, readOnly: true })),
    ...pair('blocks.{i}.mlp.fc2', `${layerTv}.mlp.linear_2`).map((r) => ({ ...r, readOnly: true })),
    ...pair('norm', 'encoder.ln'),
    ...pair('head', 'heads.head'),
  ],
  dropOnRead: [],
  dropOnWrite: [],
};

const blockJax = 'Transformer/encoderblock_{i}';
const mha = `${blockJax}/MultiHeadDotProductAttention_1`;
const JAX: ConventionRules = {
  rules: [
    { timm: 'patch_embed.proj.weight', foreign: ['embedding/kernel'], transform: convKernel },
    { timm: 'patch_embed.proj.bias', foreign: ['embedding/bias'] },
    { timm: 'cls_token', foreign: ['cls'] },
    { timm: 'pos_embed', foreign: ['Transformer/posembed_input/pos_embedding'] },
    { timm: 'blocks.{i}.norm1.weight', foreign: [`${blockJax}/LayerNorm_0/scale`] },
    { timm: 'blocks.{i}.norm1.bias', foreign: [`${blockJax}/LayerNorm_0/bias`] },
    { timm: 'blocks.{i}.attn.qkv.weight', foreign: ['query', 'key', 'value'].map((q) => `${mha}/${q}/kernel`), transform: jaxQkvKernel },
    { timm: 'blocks.{i}.attn.qkv.bias', foreign: ['query', 'key', 'value'].map((q) => `${mha}/${q}/bias`), transform: jaxQkvBias },
    { timm: 'blocks.{i}.attn.proj.weight', foreign: [`${mha}/out/kernel`], transform: jaxOutKernel },
    { timm: 'blocks.{i}.attn.proj.bias', foreign: [`${mha}/out/bias`] },
    { timm: 'blocks.{i}.norm2.weight', foreign: [`${blockJax}/LayerNorm_2/scale`] },
    { timm: 'blocks.{i}.norm2.bias', foreign: [`${blockJax}/LayerNorm_2/bias`] },
    { timm: 'blocks.{i}.mlp.fc1.weight', foreign: [`${blockJax}/MlpBlock_3/Dense_0/kernel`], transform: denseKernel },
    { timm: 'blocks.{i}.mlp.fc1.bias', foreign: [`${blockJax}/MlpBlock_3/Dense_0/bias`] },
    { timm: 'blocks.{i}.mlp.fc2.weight', foreign: [`${blockJax}/MlpBlock_3/Dense_1/kernel`], transform: denseKernel },
    { timm: 'blocks.{i}.mlp.fc2.bias', foreign: [`${blockJax}/MlpBlock_3/Dense_1/bias`] },
    { timm: 'norm.weight', foreign: ['Transformer/encoder_norm/scale'] },
    { timm: 'norm.bias', foreign: ['Transformer/encoder_norm/bias'] },
    { timm: 'head.weight', foreign: ['head/kernel'], transform: denseKernel },
    { timm: 'head.bias', foreign: ['head/bias'] },
  ],
  dropOnRead: [],
  dropOnWrite: [],
};

export const RULES: Record<Exclude<Convention, 'timm'>, ConventionRules> = {
  hf: hfRules('vit.', true),
  'hf-model': hfRules('', false),
  torchvision: TORCHVISION,
  jax: JAX,
};

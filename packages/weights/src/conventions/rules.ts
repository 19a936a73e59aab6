import { ConfigError } from '@vitkit/core';
import { WeightsFormatError } from '../errors.js';
import { concatRows, reshapeRaw, splitRows, transposeRaw, type RawTensor, type RawTensors } from '../raw_tensor.js';
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
  /** Name prefixes of foreign tensors dropped when reading (a full CLIP / SigLIP checkpoint's text tower). */
  dropOnReadPrefixes?: string[];
  /** Adjusts the timm-named tensors after renaming on read, where values differ and not only names. */
  afterRead?: (timm: RawTensors) => void;
  /** The inverse of afterRead, on a copy of the timm tensors before renaming on write; throws what cannot be written. */
  beforeWrite?: (timm: RawTensors) => void;
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

/** Leading size-1 axes: HF keeps CLIP's class embedding as [D] and position embeddings as [N, D]. */
function leadingOnes(n: number): Transform {
  return {
    toTimm: ([t], name) => reshapeRaw(t!, [...Array<number>(n).fill(1), ...t!.shape], name),
    fromTimm: (t, name) => {
      if (t.shape.length < n || t.shape.slice(0, n).some((s) => s !== 1)) throw new WeightsFormatError(`${name} should start with ${n} axes of size 1, got [${t.shape.join(', ')}]`);
      return [reshapeRaw(t, t.shape.slice(n), name)];
    },
  };
}

/** Query/key/value rules of the transformers ViT-style attention (ViT, DeiT, DINOv2). */
function vitAttention(layer: string): Rule[] {
  const attn = `${layer}.attention.attention`;
  return [
    ...W.map((w) => ({ timm: `blocks.{i}.attn.qkv.${w}`, foreign: ['query', 'key', 'value'].map((q) => `${attn}.${q}.${w}`), transform: fuseQkv })),
    ...pair('blocks.{i}.attn.proj', `${layer}.attention.output.dense`),
  ];
}

/** transformers ViTModel / DeiTModel layout under a prefix: embeddings, encoder.layer.{i}, layernorm. */
function vitLayout(prefix: string): Rule[] {
  const layer = `${prefix}encoder.layer.{i}`;
  return [
    { timm: 'cls_token', foreign: [`${prefix}embeddings.cls_token`] },
    { timm: 'pos_embed', foreign: [`${prefix}embeddings.position_embeddings`] },
    ...pair('patch_embed.proj', `${prefix}embeddings.patch_embeddings.projection`),
    ...pair('blocks.{i}.norm1', `${layer}.layernorm_before`),
    ...vitAttention(layer),
    ...pair('blocks.{i}.norm2', `${layer}.layernorm_after`),
    ...pair('blocks.{i}.mlp.fc1', `${layer}.intermediate.dense`),
    ...pair('blocks.{i}.mlp.fc2', `${layer}.output.dense`),
    ...pair('norm', `${prefix}layernorm`),
  ];
}

function hfRules(prefix: string, withClassifier: boolean): ConventionRules {
  return {
    rules: [...vitLayout(prefix), ...(withClassifier ? pair('head', 'classifier') : [])],
    dropOnRead: [`${prefix}pooler.dense.weight`, `${prefix}pooler.dense.bias`, `${prefix}embeddings.mask_token`],
    dropOnWrite: withClassifier ? [] : ['head.weight', 'head.bias'],
  };
}

/** DeiTForImageClassificationWithTeacher: distillation token, two classifiers. */
const HF_DEIT: ConventionRules = {
  rules: [
    ...vitLayout('deit.'),
    { timm: 'dist_token', foreign: ['deit.embeddings.distillation_token'] },
    ...pair('head', 'cls_classifier'),
    ...pair('head_dist', 'distillation_classifier'),
  ],
  dropOnRead: ['deit.pooler.dense.weight', 'deit.pooler.dense.bias', 'deit.embeddings.mask_token'],
  dropOnWrite: [],
};

/** Dinov2Model / Dinov2WithRegistersModel (no prefix; norm1/norm2, LayerScale lambda1, mlp.fc1/fc2). */
function hfDinov2(registers: boolean): ConventionRules {
  const layer = 'encoder.layer.{i}';
  return {
    rules: [
      { timm: 'cls_token', foreign: ['embeddings.cls_token'] },
      { timm: 'pos_embed', foreign: ['embeddings.position_embeddings'] },
      ...(registers ? [{ timm: 'reg_token', foreign: ['embeddings.register_tokens'] }] : []),
      ...pair('patch_embed.proj', 'embeddings.patch_embeddings.projection'),
      ...pair('blocks.{i}.norm1', `${layer}.norm1`),
      ...vitAttention(layer),
      { timm: 'blocks.{i}.ls1.gamma', foreign: [`${layer}.layer_scale1.lambda1`] },
      ...pair('blocks.{i}.norm2', `${layer}.norm2`),
      ...pair('blocks.{i}.mlp.fc1', `${layer}.mlp.fc1`),
      ...pair('blocks.{i}.mlp.fc2', `${layer}.mlp.fc2`),
      { timm: 'blocks.{i}.ls2.gamma', foreign: [`${layer}.layer_scale2.lambda1`] },
      ...pair('norm', 'layernorm'),
    ],
    dropOnRead: ['embeddings.mask_token'],
    dropOnWrite: [],
    // HF (like the original DINOv2) adds a class position embedding to the class token and puts the
    // registers after it without one; timm's reg4 models fold it into cls_token (no_embed_class).
    ...(registers ? { afterRead: foldClassPosition, beforeWrite: unfoldClassPosition } : {}),
  };
}

function foldClassPosition(t: RawTensors): void {
  const cls = t.get('cls_token');
  const pos = t.get('pos_embed');
  if (!cls || !pos || !(cls.data instanceof Float32Array) || !(pos.data instanceof Float32Array) || pos.shape.length !== 3) return;
  const d = pos.shape[2]!;
  if (cls.data.length !== d) return;
  const first = pos.data.subarray(0, d);
  // An all-zero class position (as written by unfoldClassPosition) leaves the class token's bits alone.
  if (first.some((v) => v !== 0)) t.set('cls_token', { shape: cls.shape, data: cls.data.map((v, k) => v + first[k]!) });
  t.set('pos_embed', { shape: [1, pos.shape[1]! - 1, d], data: pos.data.slice(d) });
}

function unfoldClassPosition(t: RawTensors): void {
  const pos = t.get('pos_embed');
  if (!pos || !(pos.data instanceof Float32Array) || pos.shape.length !== 3) return;
  const d = pos.shape[2]!;
  const data = new Float32Array(pos.data.length + d);
  data.set(pos.data, d);
  t.set('pos_embed', { shape: [1, pos.shape[1]! + 1, d], data });
}

/** CLIP / SigLIP vision tower (`vision_model.`): embeddings, encoder.layers.{i} with q/k/v/out_proj, post_layernorm. */
function hfVisionTower(): Rule[] {
  const layer = 'vision_model.encoder.layers.{i}';
  return [
    { timm: 'pos_embed', foreign: ['vision_model.embeddings.position_embedding.weight'], transform: leadingOnes(1) },
    ...pair('blocks.{i}.norm1', `${layer}.layer_norm1`),
    ...W.map((w) => ({ timm: `blocks.{i}.attn.qkv.${w}`, foreign: ['q_proj', 'k_proj', 'v_proj'].map((q) => `${layer}.self_attn.${q}.${w}`), transform: fuseQkv })),
    ...pair('blocks.{i}.attn.proj', `${layer}.self_attn.out_proj`),
    ...pair('blocks.{i}.norm2', `${layer}.layer_norm2`),
    ...pair('blocks.{i}.mlp.fc1', `${layer}.mlp.fc1`),
    ...pair('blocks.{i}.mlp.fc2', `${layer}.mlp.fc2`),
    ...pair('norm', 'vision_model.post_layernorm'),
  ];
}

/**
 * CLIPVisionModel(WithProjection), or the vision half of a CLIPModel: class_embedding [D],
 * pre_layrnorm (timm norm_pre), patch projection without bias; visual_projection (no bias)
 * is timm's head with a zero bias, as timm converts OpenAI CLIP.
 */
const HF_CLIP: ConventionRules = {
  rules: [
    { timm: 'cls_token', foreign: ['vision_model.embeddings.class_embedding'], transform: leadingOnes(2) },
    { timm: 'patch_embed.proj.weight', foreign: ['vision_model.embeddings.patch_embedding.weight'] },
    ...pair('norm_pre', 'vision_model.pre_layrnorm'),
    ...hfVisionTower(),
    { timm: 'head.weight', foreign: ['visual_projection.weight'] },
  ],
  dropOnRead: ['vision_model.embeddings.position_ids'],
  dropOnReadPrefixes: ['text_model.', 'text_projection.', 'logit_scale'],
  dropOnWrite: [],
  afterRead: (t) => {
    const w = t.get('head.weight');
    if (w && !t.has('head.bias') && w.shape.length === 2) t.set('head.bias', { shape: [w.shape[0]!], data: new Float32Array(w.shape[0]!) });
  },
  beforeWrite: (t) => {
    const b = t.get('head.bias');
    if (!b) return;
    if (b.data.some((v) => v !== 0)) {
      throw new ConfigError(
        `Hugging Face CLIP has no classifier: its only head, visual_projection, has no bias, but head.bias [${b.shape.join(', ')}] is not zero`,
        'save in the timm convention, or load with headMode "backbone" to write the vision tower alone',
      );
    }
    t.delete('head.bias');
  },
};

/** SiglipVisionModel, or the vision half of a SiglipModel: no class token, MAP head (probe, nn.MultiheadAttention). */
const pool = 'vision_model.head';
const HF_SIGLIP: ConventionRules = {
  rules: [
    ...pair('patch_embed.proj', 'vision_model.embeddings.patch_embedding'),
    ...hfVisionTower(),
    { timm: 'attn_pool.latent', foreign: [`${pool}.probe`] },
    { timm: 'attn_pool.in_proj.weight', foreign: [`${pool}.attention.in_proj_weight`] },
    { timm: 'attn_pool.in_proj.bias', foreign: [`${pool}.attention.in_proj_bias`] },
    ...pair('attn_pool.proj', `${pool}.attention.out_proj`),
    ...pair('attn_pool.norm', `${pool}.layernorm`),
    ...pair('attn_pool.mlp.fc1', `${pool}.mlp.fc1`),
    ...pair('attn_pool.mlp.fc2', `${pool}.mlp.fc2`),
  ],
  dropOnRead: ['vision_model.embeddings.position_ids'],
  dropOnReadPrefixes: ['text_model.', 'logit_scale', 'logit_bias'],
  dropOnWrite: [],
  // nn.MultiheadAttention packs q|k|v rows in in_proj; timm's AttentionPoolLatent keeps q and kv apart.
  afterRead: (t) => {
    for (const w of W) {
      const packed = t.get(`attn_pool.in_proj.${w}`);
      if (!packed) continue;
      const [q, k, v] = splitRows(packed, 3, `${pool}.attention.in_proj_${w}`);
      t.delete(`attn_pool.in_proj.${w}`);
      t.set(`attn_pool.q.${w}`, q!);
      t.set(`attn_pool.kv.${w}`, concatRows([k!, v!], `attn_pool.kv.${w}`));
    }
  },
  beforeWrite: (t) => {
    for (const w of W) {
      const q = t.get(`attn_pool.q.${w}`);
      const kv = t.get(`attn_pool.kv.${w}`);
      if (!q || !kv) continue;
      t.delete(`attn_pool.q.${w}`);
      t.delete(`attn_pool.kv.${w}`);
      t.set(`attn_pool.in_proj.${w}`, concatRows([q, kv], `attn_pool.q/kv.${w}`));
    }
  },
};

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
  'hf-dinov2': hfDinov2(false),
  'hf-dinov2-reg': hfDinov2(true),
  'hf-clip': HF_CLIP,
  'hf-siglip': HF_SIGLIP,
  'hf-deit': HF_DEIT,
  torchvision: TORCHVISION,
  jax: JAX,
};

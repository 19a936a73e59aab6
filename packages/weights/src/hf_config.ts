import { ConfigError, resolveConfig, type Activation, type ViTConfig, type ViTConfigInput } from '@vitkit/core';
import type { Convention } from './conventions/convention.js';
import { timmHubToInput } from './timm_hub_config.js';

/**
 * Hugging Face `config.json` files (transformers' ViTConfig) and timm's
 * hub `config.json` ({ architecture, num_classes, pretrained_cfg }), to and
 * from vitkit's ViTConfig.
 */
export type HFConfigJson = Record<string, unknown>;

/** transformers' ViTConfig defaults, used for fields a config.json leaves out. */
const HF_DEFAULTS = {
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  layer_norm_eps: 1e-12,
  image_size: 224,
  patch_size: 16,
  num_channels: 3,
  qkv_bias: true,
  hidden_dropout_prob: 0,
  attention_probs_dropout_prob: 0,
};

function field<T>(json: HFConfigJson, key: keyof typeof HF_DEFAULTS, check: (v: unknown) => v is T, what: string): T {
  const v = json[key] ?? HF_DEFAULTS[key];
  if (!check(v)) throw new ConfigError(`config.json: ${key} must be ${what}, got ${JSON.stringify(v)}`, 'fix or re-export the config.json');
  return v;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isSize = (v: unknown): v is number | number[] => isNum(v) || (Array.isArray(v) && v.length === 2 && v.every(isNum));

/** Labels from `id2label`, ordered by class index. */
function labelsFrom(json: HFConfigJson): string[] | undefined {
  const id2label = json.id2label;
  if (typeof id2label !== 'object' || id2label === null) return undefined;
  const entries = Object.entries(id2label as Record<string, unknown>).map(([k, v]) => [Number(k), String(v)] as const);
  if (!entries.every(([k]) => Number.isInteger(k) && k >= 0)) throw new ConfigError('config.json: id2label keys must be class indices');
  entries.sort((a, b) => a[0] - b[0]);
  if (!entries.every(([k], i) => k === i)) throw new ConfigError('config.json: id2label must number the classes 0..N-1 without gaps');
  return entries.map(([, v]) => v);
}

/** A transformers ViT config.json as a vitkit config. */
export function configFromHF(json: HFConfigJson): ViTConfig {
  return resolveConfig(hfToInput(json));
}

function hfToInput(json: HFConfigJson): ViTConfigInput {
  const modelType = json.model_type;
  const architectures = Array.isArray(json.architectures) ? json.architectures.map(String) : [];
  if (modelType === 'deit' && architectures.includes('DeiTForImageClassificationWithTeacher')) return { ...vitFields(json, true), distilled: true };
  if (modelType === 'dinov2' || modelType === 'dinov2_with_registers') return dinov2ToInput(json, architectures);
  if (modelType === 'clip_vision_model' || modelType === 'clip') return clipToInput(json, architectures);
  if (modelType === 'siglip_vision_model' || modelType === 'siglip') return siglipToInput(json);
  if (modelType !== undefined && modelType !== 'vit') {
    throw new ConfigError(
      `config.json describes a "${String(modelType)}" model${architectures.length ? ` (${architectures.join(', ')})` : ''}, which vitkit does not read`,
      'vitkit reads transformers vit, deit (DeiTForImageClassificationWithTeacher), dinov2, dinov2_with_registers, clip and siglip vision configs',
    );
  }
  const act = json.hidden_act ?? 'gelu';
  if (act !== 'gelu') throw new ConfigError(`config.json: hidden_act "${String(act)}" is not supported`, 'vitkit ViTs use exact GELU ("gelu")');
  return vitFields(json, architectures.some((a) => a.endsWith('ForImageClassification')));
}

/** Fields transformers' ViTConfig and DeiTConfig share. */
function vitFields(json: HFConfigJson, classifier: boolean): ViTConfigInput {
  const labels = classifier ? labelsFrom(json) : undefined;
  const numLabels = isNum(json.num_labels) ? json.num_labels : undefined;
  const numClasses = classifier ? (labels?.length ?? numLabels ?? 2) : 0;
  const image = field(json, 'image_size', isSize, 'a number or [height, width]');
  return {
    imageSize: typeof image === 'number' ? image : [image[0]!, image[1]!],
    patchSize: field(json, 'patch_size', isNum, 'a number'),
    inChannels: field(json, 'num_channels', isNum, 'a number'),
    embedDim: field(json, 'hidden_size', isNum, 'a number'),
    depth: field(json, 'num_hidden_layers', isNum, 'a number'),
    numHeads: field(json, 'num_attention_heads', isNum, 'a number'),
    mlpDim: field(json, 'intermediate_size', isNum, 'a number'),
    layerNormEps: field(json, 'layer_norm_eps', isNum, 'a number'),
    qkvBias: field(json, 'qkv_bias', isBool, 'true or false'),
    dropout: field(json, 'hidden_dropout_prob', isNum, 'a number'),
    attentionDropout: field(json, 'attention_probs_dropout_prob', isNum, 'a number'),
    numClasses,
    ...(labels && labels.length === numClasses ? { labels } : {}),
    activation: activationFromHF(json.hidden_act ?? 'gelu'),
    classToken: true,
    pooling: 'token',
  };
}

const HF_ACTS: Record<string, Activation> = { gelu: 'gelu', gelu_pytorch_tanh: 'gelu_tanh', gelu_new: 'gelu_tanh', quick_gelu: 'quick_gelu' };
const ACT_TO_HF: Record<Activation, string> = { gelu: 'gelu', gelu_tanh: 'gelu_pytorch_tanh', quick_gelu: 'quick_gelu' };

function activationFromHF(v: unknown): Activation {
  const act = typeof v === 'string' ? HF_ACTS[v] : undefined;
  if (!act) throw new ConfigError(`config.json: hidden_act ${JSON.stringify(v)} is not supported`, 'vitkit has gelu, gelu_pytorch_tanh / gelu_new and quick_gelu');
  return act;
}

/** A value from a config.json, its transformers default when absent, checked. */
function get<T>(json: HFConfigJson, key: string, fallback: T, check: (v: unknown) => boolean, what: string): T {
  const v = json[key] ?? fallback;
  if (!check(v)) throw new ConfigError(`config.json: ${key} must be ${what}, got ${JSON.stringify(v)}`, 'fix or re-export the config.json');
  return v as T;
}
const n = (json: HFConfigJson, key: string, fallback: number) => get(json, key, fallback, isNum, 'a number');
const size = (json: HFConfigJson, key: string, fallback: number): number | [number, number] => {
  const v = get<number | number[]>(json, key, fallback, isSize, 'a number or [height, width]');
  return typeof v === 'number' ? v : [v[0]!, v[1]!];
};

/** Dinov2Model / Dinov2WithRegistersModel (transformers interpolates the position embedding for any input size). */
function dinov2ToInput(json: HFConfigJson, architectures: string[]): ViTConfigInput {
  const registers = json.model_type === 'dinov2_with_registers';
  if (architectures.some((a) => a.endsWith('ForImageClassification'))) {
    throw new ConfigError(
      `config.json describes ${architectures.join(', ')}, whose classifier reads the class token and the mean patch token together; timm has no such head`,
      'load the backbone (Dinov2Model) instead',
    );
  }
  const embedDim = n(json, 'hidden_size', 768);
  const ratio = n(json, 'mlp_ratio', 4);
  return {
    imageSize: size(json, 'image_size', 224),
    patchSize: n(json, 'patch_size', registers ? 16 : 14),
    inChannels: n(json, 'num_channels', 3),
    embedDim,
    depth: n(json, 'num_hidden_layers', 12),
    numHeads: n(json, 'num_attention_heads', 12),
    mlpDim: Math.floor(embedDim * ratio),
    layerNormEps: n(json, 'layer_norm_eps', 1e-6),
    qkvBias: get(json, 'qkv_bias', true, isBool, 'true or false'),
    activation: activationFromHF(json.hidden_act ?? 'gelu'),
    layerScaleInit: n(json, 'layerscale_value', 1),
    mlpLayer: get(json, 'use_swiglu_ffn', false, isBool, 'true or false') ? 'swiglu' : 'mlp',
    numRegisterTokens: registers ? n(json, 'num_register_tokens', 4) : 0,
    noEmbedClass: registers,
    dynamicImageSize: true,
    dropout: n(json, 'hidden_dropout_prob', 0),
    attentionDropout: n(json, 'attention_probs_dropout_prob', 0),
    dropPath: n(json, 'drop_path_rate', 0),
    numClasses: 0,
    classToken: true,
    pooling: 'token',
  };
}

/** The vision part of a CLIP or SigLIP config: the whole config, or its vision_config. */
function visionConfig(json: HFConfigJson, full: string): HFConfigJson {
  if (json.model_type !== full) return json;
  const v = json.vision_config;
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as HFConfigJson) : {};
}

/** The fields CLIP's and SigLIP's vision configs share (names and defaults differ only in patch, eps and activation). */
function towerShape(v: HFConfigJson, d: { patchSize: number; layerNormEps: number; act: string }): ViTConfigInput {
  return {
    imageSize: size(v, 'image_size', 224),
    patchSize: n(v, 'patch_size', d.patchSize),
    inChannels: n(v, 'num_channels', 3),
    embedDim: n(v, 'hidden_size', 768),
    depth: n(v, 'num_hidden_layers', 12),
    numHeads: n(v, 'num_attention_heads', 12),
    mlpDim: n(v, 'intermediate_size', 3072),
    layerNormEps: n(v, 'layer_norm_eps', d.layerNormEps),
    activation: activationFromHF(v.hidden_act ?? d.act),
    attentionDropout: n(v, 'attention_dropout', 0),
  };
}

/** CLIPVisionModel (no head), CLIPVisionModelWithProjection or CLIPModel (visual_projection = timm head without bias). */
function clipToInput(json: HFConfigJson, architectures: string[]): ViTConfigInput {
  const v = visionConfig(json, 'clip');
  const withProjection = json.model_type === 'clip' || architectures.includes('CLIPVisionModelWithProjection');
  const projection = json.model_type === 'clip' ? n(json, 'projection_dim', 512) : n(v, 'projection_dim', 512);
  return {
    ...towerShape(v, { patchSize: 32, layerNormEps: 1e-5, act: 'quick_gelu' }),
    preNorm: true,
    patchEmbedBias: false,
    numClasses: withProjection ? projection : 0,
    classToken: true,
    pooling: 'token',
  };
}

/** SiglipVisionModel or SiglipModel's vision tower: no class token, attention-pooling head unless vision_use_head is false. */
function siglipToInput(json: HFConfigJson): ViTConfigInput {
  const v = visionConfig(json, 'siglip');
  return {
    ...towerShape(v, { patchSize: 16, layerNormEps: 1e-6, act: 'gelu_pytorch_tanh' }),
    classToken: false,
    pooling: get(v, 'vision_use_head', true, isBool, 'true or false') ? 'map' : 'none',
    numClasses: 0,
  };
}

/** Throws one ConfigError listing every field a Hugging Face class cannot express. */
function requireFields(config: ViTConfig, what: string, needs: Partial<Record<keyof ViTConfig, unknown>>, extra: string[] = []): void {
  const bad = Object.entries(needs)
    .filter(([k, v]) => config[k as keyof ViTConfig] !== v)
    .map(([k, v]) => `${k} ${JSON.stringify(config[k as keyof ViTConfig])} (needs ${JSON.stringify(v)})`);
  bad.push(...extra);
  if (bad.length) throw new ConfigError(`Hugging Face ${what} cannot express ${bad.join(', ')}`, 'save in the timm convention, which holds every vitkit architecture');
}

const PLAIN = { distilled: false, preNorm: false, patchEmbedBias: true, qkNorm: false, layerScaleInit: null, finalNorm: true, fcNorm: false, numRegisterTokens: 0, noEmbedClass: false } as const;

function idLabels(config: ViTConfig): HFConfigJson {
  if (config.numClasses === 0) return {};
  const labels = config.labels ?? Array.from({ length: config.numClasses }, (_, i) => `LABEL_${i}`);
  return { id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])), label2id: Object.fromEntries(labels.map((l, i) => [l, i])) };
}

function squareImage(config: ViTConfig, what: string): number {
  const [h, w] = config.imageSize;
  if (h !== w) throw new ConfigError(`Hugging Face ${what} needs a square image size, got ${h}x${w}`, 'save in the timm convention');
  return h;
}

/** The encoder fields transformers' ViT and DINOv2 configs spell alike. */
function encoderFieldsToHF(config: ViTConfig): HFConfigJson {
  const [h, w] = config.imageSize;
  return {
    hidden_size: config.embedDim,
    num_hidden_layers: config.depth,
    num_attention_heads: config.numHeads,
    hidden_dropout_prob: config.dropout,
    attention_probs_dropout_prob: config.attentionDropout,
    initializer_range: 0.02,
    layer_norm_eps: config.layerNormEps,
    image_size: h === w ? h : [h, w],
    patch_size: config.patchSize,
    num_channels: config.inChannels,
    qkv_bias: config.qkvBias,
  };
}

function dinov2ToHF(config: ViTConfig, registers: boolean): HFConfigJson {
  const what = registers ? 'Dinov2WithRegistersModel' : 'Dinov2Model';
  const ratio = config.mlpDim / config.embedDim;
  requireFields(
    config,
    what,
    {
      ...PLAIN,
      layerScaleInit: config.layerScaleInit ?? 'a number',
      classToken: true,
      pooling: 'token',
      numClasses: 0,
      noEmbedClass: registers,
      numRegisterTokens: registers ? config.numRegisterTokens : 0,
    },
    [
      ...(registers && config.numRegisterTokens === 0 ? ['numRegisterTokens 0 (needs registers)'] : []),
      ...(Math.floor(config.embedDim * ratio) === config.mlpDim ? [] : [`mlpDim ${config.mlpDim} as an mlp_ratio`]),
    ],
  );
  return {
    architectures: [what],
    model_type: registers ? 'dinov2_with_registers' : 'dinov2',
    ...encoderFieldsToHF(config),
    mlp_ratio: ratio,
    hidden_act: ACT_TO_HF[config.activation],
    layerscale_value: config.layerScaleInit,
    drop_path_rate: config.dropPath,
    use_swiglu_ffn: false,
    ...(registers ? { num_register_tokens: config.numRegisterTokens } : {}),
  };
}

function clipToHF(config: ViTConfig): HFConfigJson {
  const what = config.numClasses > 0 ? 'CLIPVisionModelWithProjection' : 'CLIPVisionModel';
  requireFields(config, what, { ...PLAIN, preNorm: true, patchEmbedBias: false, classToken: true, pooling: 'token', qkvBias: true });
  return {
    architectures: [what],
    model_type: 'clip_vision_model',
    hidden_size: config.embedDim,
    intermediate_size: config.mlpDim,
    ...(config.numClasses > 0 ? { projection_dim: config.numClasses } : {}),
    num_hidden_layers: config.depth,
    num_attention_heads: config.numHeads,
    num_channels: config.inChannels,
    image_size: squareImage(config, what),
    patch_size: config.patchSize,
    hidden_act: ACT_TO_HF[config.activation],
    layer_norm_eps: config.layerNormEps,
    attention_dropout: config.attentionDropout,
    initializer_range: 0.02,
    initializer_factor: 1.0,
  };
}

function siglipToHF(config: ViTConfig): HFConfigJson {
  requireFields(config, 'SiglipVisionModel', { ...PLAIN, classToken: false, qkvBias: true, numClasses: 0 }, config.pooling === 'map' || config.pooling === 'none' ? [] : [`pooling "${config.pooling}" (needs "map" or "none")`]);
  return {
    architectures: ['SiglipVisionModel'],
    model_type: 'siglip_vision_model',
    hidden_size: config.embedDim,
    intermediate_size: config.mlpDim,
    num_hidden_layers: config.depth,
    num_attention_heads: config.numHeads,
    num_channels: config.inChannels,
    image_size: squareImage(config, 'SiglipVisionModel'),
    patch_size: config.patchSize,
    hidden_act: ACT_TO_HF[config.activation],
    layer_norm_eps: config.layerNormEps,
    attention_dropout: config.attentionDropout,
    vision_use_head: config.pooling === 'map',
  };
}

/**
 * A vitkit config as the config.json of a Hugging Face convention: ViTForImageClassification
 * (or ViTModel without classes) by default, else the class of `convention` (hf-dinov2 ...).
 * Throws a ConfigError listing what that class cannot express.
 */
export function configToHF(config: ViTConfig, convention: Convention = 'hf'): HFConfigJson {
  if (convention === 'hf-dinov2' || convention === 'hf-dinov2-reg') return dinov2ToHF(config, convention === 'hf-dinov2-reg');
  if (convention === 'hf-clip') return clipToHF(config);
  if (convention === 'hf-siglip') return siglipToHF(config);
  const deit = convention === 'hf-deit';
  const unsupported: string[] = [];
  if (config.numRegisterTokens > 0) unsupported.push('register tokens');
  if (config.noEmbedClass) unsupported.push('noEmbedClass');
  if (!config.classToken || config.pooling !== 'token') unsupported.push('mean pooling without class token');
  if (unsupported.length) {
    throw new ConfigError(`transformers ViT cannot express ${unsupported.join(', ')}`, 'save in the timm convention instead');
  }
  const what = deit ? 'DeiTForImageClassificationWithTeacher' : 'ViT';
  requireFields(config, what, { ...PLAIN, distilled: deit, activation: 'gelu' }, deit && config.numClasses === 0 ? ['numClasses 0 (needs its two classifiers)'] : []);
  return {
    architectures: [deit ? 'DeiTForImageClassificationWithTeacher' : config.numClasses > 0 ? 'ViTForImageClassification' : 'ViTModel'],
    model_type: deit ? 'deit' : 'vit',
    ...encoderFieldsToHF(config),
    intermediate_size: config.mlpDim,
    hidden_act: 'gelu',
    encoder_stride: config.patchSize,
    ...idLabels(config),
  };
}

/**
 * Any config.json vitkit understands, as a partial config: transformers
 * (has `hidden_size` or `model_type`), timm hub (`architecture`), or a
 * vitkit config (camelCase ViTConfig fields). Returns undefined for
 * anything else, so an unrelated config.json is ignored.
 */
export function configInputFromJson(json: unknown): ViTConfigInput | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const o = json as HFConfigJson;
  if ('hidden_size' in o || 'model_type' in o) return hfToInput(o);
  if (typeof o.architecture === 'string') return timmHubToInput(o);
  if ('embedDim' in o || 'patchSize' in o || 'numHeads' in o) return o as ViTConfigInput;
  return undefined;
}

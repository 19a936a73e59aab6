import { ConfigError, isPresetName, PRESETS, resolveConfig, type ViTConfig, type ViTConfigInput } from '@vitkit/core';

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
  if (modelType !== undefined && modelType !== 'vit') {
    throw new ConfigError(`config.json describes a "${String(modelType)}" model, not a plain ViT`, 'vitkit reads transformers ViT configs (model_type "vit")');
  }
  const act = json.hidden_act ?? 'gelu';
  if (act !== 'gelu') throw new ConfigError(`config.json: hidden_act "${String(act)}" is not supported`, 'vitkit ViTs use exact GELU ("gelu")');
  const architectures = Array.isArray(json.architectures) ? json.architectures.map(String) : [];
  const classifier = architectures.some((a) => a.endsWith('ForImageClassification'));
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
    classToken: true,
    pooling: 'token',
  };
}

/** A vitkit config as a transformers ViT config.json (ViTForImageClassification, or ViTModel without classes). */
export function configToHF(config: ViTConfig): HFConfigJson {
  const unsupported: string[] = [];
  if (config.numRegisterTokens > 0) unsupported.push('register tokens');
  if (config.noEmbedClass) unsupported.push('noEmbedClass');
  if (!config.classToken || config.pooling !== 'token') unsupported.push('mean pooling without class token');
  if (unsupported.length) {
    throw new ConfigError(`transformers ViT cannot express ${unsupported.join(', ')}`, 'save in the timm convention instead');
  }
  const [h, w] = config.imageSize;
  const labels = config.numClasses > 0 ? (config.labels ?? Array.from({ length: config.numClasses }, (_, i) => `LABEL_${i}`)) : [];
  return {
    architectures: [config.numClasses > 0 ? 'ViTForImageClassification' : 'ViTModel'],
    model_type: 'vit',
    hidden_size: config.embedDim,
    num_hidden_layers: config.depth,
    num_attention_heads: config.numHeads,
    intermediate_size: config.mlpDim,
    hidden_act: 'gelu',
    hidden_dropout_prob: config.dropout,
    attention_probs_dropout_prob: config.attentionDropout,
    initializer_range: 0.02,
    layer_norm_eps: config.layerNormEps,
    image_size: h === w ? h : [h, w],
    patch_size: config.patchSize,
    num_channels: config.inChannels,
    qkv_bias: config.qkvBias,
    encoder_stride: config.patchSize,
    ...(config.numClasses > 0
      ? {
          id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
          label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
        }
      : {}),
  };
}

/** timm hub config.json: the architecture name (a preset) plus class count, input size and labels. */
function timmToInput(json: HFConfigJson): ViTConfigInput {
  const arch = String(json.architecture).split('.')[0]!;
  const out: ViTConfigInput = isPresetName(arch) ? { ...PRESETS[arch] } : {};
  if (isNum(json.num_classes)) out.numClasses = json.num_classes;
  const pretrained = json.pretrained_cfg as { input_size?: unknown } | undefined;
  const input = pretrained?.input_size;
  if (Array.isArray(input) && input.length === 3 && input.every(isNum)) out.imageSize = [input[1] as number, input[2] as number];
  if (Array.isArray(json.label_names) && json.label_names.length === out.numClasses) out.labels = json.label_names.map(String);
  if (json.global_pool === 'avg') out.pooling = 'mean';
  return out;
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
  if (typeof o.architecture === 'string') return timmToInput(o);
  if ('embedDim' in o || 'patchSize' in o || 'numHeads' in o) return o as ViTConfigInput;
  return undefined;
}

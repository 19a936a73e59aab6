import { ConfigError } from './errors.js';
import { checkSizeLimits } from './limits.js';

/**
 * How the encoder output is reduced to one vector per image (timm `global_pool`):
 * - `token`: the class token (timm 'token').
 * - `mean`: the mean of the patch tokens, prefix tokens excluded (timm 'avg').
 * - `map`: multihead attention pooling with a learned latent query (timm 'map', `AttentionPoolLatent`,
 *   parameters `attn_pool.*`), over the patch tokens (prefix tokens excluded).
 * - `none`: no pooling; the model returns all tokens (timm '').
 */
export type Pooling = 'token' | 'mean' | 'map' | 'none';

/** MLP activation: exact (erf) GELU, tanh-approximated GELU (HF gelu_pytorch_tanh / gelu_new), or CLIP's x * sigmoid(1.702 x). */
export type Activation = 'gelu' | 'gelu_tanh' | 'quick_gelu';

/** MLP kind: timm `Mlp` (fc1, act, fc2) or SwiGLU (DINOv2 giant), which vitkit does not have. */
export type MlpLayer = 'mlp' | 'swiglu';

export const POOLINGS: readonly Pooling[] = ['token', 'mean', 'map', 'none'];
export const ACTIVATIONS: readonly Activation[] = ['gelu', 'gelu_tanh', 'quick_gelu'];

/**
 * The architecture of a Vision Transformer. Field names follow timm's
 * `VisionTransformer` keyword arguments, camel-cased.
 */
export interface ViTConfig {
  /** Input image size [height, width] in pixels. */
  imageSize: [number, number];
  patchSize: number;
  inChannels: number;
  /** Token width (timm `embed_dim`, HF `hidden_size`). */
  embedDim: number;
  /** Number of encoder blocks. */
  depth: number;
  numHeads: number;
  /** Hidden width of each MLP (timm `embed_dim * mlp_ratio`, HF `intermediate_size`). */
  mlpDim: number;
  /** Classifier outputs; 0 means no classifier (the model returns pooled features). */
  numClasses: number;
  /** Epsilon of every LayerNorm (timm default 1e-6; CLIP 1e-5). */
  layerNormEps: number;
  qkvBias: boolean;
  /** LayerNorm over each head's queries and keys (timm `qk_norm`: `attn.q_norm`, `attn.k_norm`, shape [headDim]). */
  qkNorm: boolean;
  /**
   * LayerScale init value (timm `init_values`): when a number, each block scales its attention and MLP
   * outputs by learned per-channel factors `ls1.gamma`, `ls2.gamma` [embedDim]; null means no LayerScale.
   */
  layerScaleInit: number | null;
  activation: Activation;
  mlpLayer: MlpLayer;
  classToken: boolean;
  /**
   * DeiT distillation token (`dist_token` [1, 1, D]) right after the class token, and a second
   * classifier `head_dist` on it; eval output is the mean of both heads (timm VisionTransformerDistilled).
   */
  distilled: boolean;
  /** Extra learnable tokens after the class token (DINOv2-style "registers", timm `reg_token`). */
  numRegisterTokens: number;
  /** True when position embeddings cover only the patch tokens (timm `no_embed_class`). */
  noEmbedClass: boolean;
  /** LayerNorm `norm_pre` after the position embedding, before the blocks (timm `pre_norm`, CLIP). */
  preNorm: boolean;
  /** Bias in the patch projection `patch_embed.proj` (timm drops it when `pre_norm`; default !preNorm). */
  patchEmbedBias: boolean;
  /** Any input size that is a multiple of the patch size; pos_embed is resampled per input (timm `dynamic_img_size`). */
  dynamicImageSize: boolean;
  pooling: Pooling;
  /** Final LayerNorm after the blocks (timm `final_norm`); false means neither `norm` nor `fc_norm`. */
  finalNorm: boolean;
  /**
   * Apply the final LayerNorm to the pooled vector (`fc_norm`) instead of all tokens (`norm`)
   * (timm `fc_norm`; default: pooling is mean, and only with finalNorm).
   */
  fcNorm: boolean;
  /** Dropout after attention projection and MLP layers, in training mode only. */
  dropout: number;
  /** Dropout on attention probabilities, in training mode only. */
  attentionDropout: number;
  /** Stochastic-depth rate of the last block (linearly increasing from 0). */
  dropPath: number;
  /** Optional class names, index-aligned with the classifier outputs. */
  labels?: string[];
}

/**
 * What users pass: any subset of ViTConfig, with `imageSize` also as one number, and
 * `mlpRatio` (timm `mlp_ratio`: mlpDim = floor(embedDim * mlpRatio)) when mlpDim is not given.
 */
export type ViTConfigInput = Partial<Omit<ViTConfig, 'imageSize' | 'layerScaleInit'>> & {
  imageSize?: number | [number, number];
  mlpRatio?: number;
  layerScaleInit?: number | null;
};

export const DEFAULT_CONFIG: ViTConfig = {
  imageSize: [224, 224],
  patchSize: 16,
  inChannels: 3,
  embedDim: 768,
  depth: 12,
  numHeads: 12,
  mlpDim: 3072,
  numClasses: 1000,
  layerNormEps: 1e-6,
  qkvBias: true,
  qkNorm: false,
  layerScaleInit: null,
  activation: 'gelu',
  mlpLayer: 'mlp',
  classToken: true,
  distilled: false,
  numRegisterTokens: 0,
  noEmbedClass: false,
  preNorm: false,
  patchEmbedBias: true,
  dynamicImageSize: false,
  pooling: 'token',
  finalNorm: true,
  fcNorm: false,
  dropout: 0,
  attentionDropout: 0,
  dropPath: 0,
};

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) {
    throw new ConfigError(`config.${name} must be a positive integer, got ${v}`, 'fix the value in your config');
  }
}

function rate(name: string, v: number): void {
  if (!(v >= 0 && v < 1)) {
    throw new ConfigError(`config.${name} must be in [0, 1), got ${v}`, 'use a probability such as 0.1');
  }
}

/** Fields whose default follows other fields (timm computes them from `pre_norm`, `global_pool`, `final_norm`). */
const DERIVED_FIELDS = ['fcNorm', 'patchEmbedBias'] as const;
type DerivedField = (typeof DERIVED_FIELDS)[number];

/**
 * For each resolved config: which derived fields its input gave explicitly. Invisible (not a property),
 * so configs still compare, spread and serialize as plain ViTConfig objects.
 */
const explicitDerived = new WeakMap<object, ReadonlySet<DerivedField>>();

/**
 * Fills defaults, normalizes `imageSize`, and checks that the architecture is consistent.
 * `fcNorm` and `patchEmbedBias` default from `finalNorm`/`pooling` and `preNorm`; the result remembers
 * whether they were given, so {@link withOverrides} can re-derive them. A config passed in as it was
 * resolved keeps that record; a spread copy (`{ ...config }`) has lost it, and every field in it counts as given.
 */
export function resolveConfig(input: ViTConfigInput = {}): ViTConfig {
  const imageSize: [number, number] =
    input.imageSize === undefined
      ? [...DEFAULT_CONFIG.imageSize]
      : typeof input.imageSize === 'number'
        ? [input.imageSize, input.imageSize]
        : [input.imageSize[0], input.imageSize[1]];
  const { mlpRatio, ...given } = stripUndefined(input);
  const embedDim = given.embedDim ?? DEFAULT_CONFIG.embedDim;
  if (mlpRatio !== undefined && !(mlpRatio > 0)) throw new ConfigError(`config.mlpRatio must be > 0, got ${mlpRatio}`);
  const preNorm = given.preNorm ?? DEFAULT_CONFIG.preNorm;
  const pooling = given.pooling ?? DEFAULT_CONFIG.pooling;
  const finalNorm = given.finalNorm ?? DEFAULT_CONFIG.finalNorm;
  const config: ViTConfig = {
    ...DEFAULT_CONFIG,
    mlpDim: Math.floor(embedDim * (mlpRatio ?? 4)),
    // timm: the patch projection has no bias under pre_norm; fc_norm defaults on for average pooling.
    patchEmbedBias: !preNorm,
    fcNorm: finalNorm && pooling === 'mean',
    ...(given as Partial<ViTConfig>),
    imageSize,
  };
  validateConfig(config);
  explicitDerived.set(config, explicitDerived.get(input) ?? new Set(DERIVED_FIELDS.filter((f) => f in given)));
  return config;
}

/**
 * `base` with `overrides` applied, resolved. Unlike `resolveConfig({ ...base, ...overrides })`, a derived
 * field that `base` did not give explicitly (it was resolved from defaults) is derived again from the
 * merged fields: `withOverrides(resolveConfig({}), { pooling: 'mean' }).fcNorm` is true, as in timm,
 * while an explicit `fcNorm: false` in `base` or in `overrides` is kept.
 */
export function withOverrides(base: ViTConfigInput | ViTConfig, overrides: ViTConfigInput = {}): ViTConfig {
  const explicit = explicitDerived.get(base);
  const merged: Record<string, unknown> = { ...base };
  if (explicit) for (const f of DERIVED_FIELDS) if (!explicit.has(f)) delete merged[f];
  return resolveConfig({ ...(merged as ViTConfigInput), ...stripUndefined(overrides) });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function validateConfig(c: ViTConfig): void {
  positiveInt('imageSize[0]', c.imageSize[0]);
  positiveInt('imageSize[1]', c.imageSize[1]);
  positiveInt('patchSize', c.patchSize);
  positiveInt('inChannels', c.inChannels);
  positiveInt('embedDim', c.embedDim);
  positiveInt('depth', c.depth);
  positiveInt('numHeads', c.numHeads);
  positiveInt('mlpDim', c.mlpDim);
  if (!Number.isInteger(c.numClasses) || c.numClasses < 0) {
    throw new ConfigError(`config.numClasses must be an integer >= 0, got ${c.numClasses}`, 'use 0 for a model without classifier');
  }
  if (!Number.isInteger(c.numRegisterTokens) || c.numRegisterTokens < 0) {
    throw new ConfigError(`config.numRegisterTokens must be an integer >= 0, got ${c.numRegisterTokens}`);
  }
  if (c.embedDim % c.numHeads !== 0) {
    throw new ConfigError(
      `config.embedDim (${c.embedDim}) is not divisible by config.numHeads (${c.numHeads})`,
      'pick a head count that divides the embedding width',
    );
  }
  for (const [i, s] of c.imageSize.entries()) {
    if (s % c.patchSize !== 0) {
      throw new ConfigError(
        `image ${i === 0 ? 'height' : 'width'} ${s} is not a multiple of patch size ${c.patchSize}`,
        `use an image size that is a multiple of ${c.patchSize}`,
      );
    }
  }
  if (!(c.layerNormEps > 0)) throw new ConfigError(`config.layerNormEps must be > 0, got ${c.layerNormEps}`);
  if (!POOLINGS.includes(c.pooling)) {
    throw new ConfigError(`config.pooling must be one of ${POOLINGS.join(', ')}, got ${String(c.pooling)}`);
  }
  if (c.pooling === 'token' && !c.classToken) {
    throw new ConfigError('config.pooling is "token" but config.classToken is false', 'use pooling "mean" for models without a class token');
  }
  if (!ACTIVATIONS.includes(c.activation)) {
    throw new ConfigError(`config.activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(c.activation)}`);
  }
  if (c.mlpLayer === 'swiglu') {
    throw new ConfigError('vitkit has no SwiGLU MLP (DINOv2 giant); this model cannot be loaded yet', 'use a DINOv2 small, base or large model');
  }
  if (c.mlpLayer !== 'mlp') throw new ConfigError(`config.mlpLayer must be "mlp", got ${String(c.mlpLayer)}`);
  if (c.layerScaleInit !== null && !(typeof c.layerScaleInit === 'number' && c.layerScaleInit > 0 && Number.isFinite(c.layerScaleInit))) {
    throw new ConfigError(`config.layerScaleInit must be a number > 0 or null, got ${String(c.layerScaleInit)}`, 'use null for no LayerScale (timm init_values None)');
  }
  if (c.distilled && !c.classToken) throw new ConfigError('config.distilled needs a class token (the distillation token follows it)', 'set classToken true');
  if (c.distilled && c.pooling !== 'token') {
    throw new ConfigError(`config.distilled needs pooling "token" (timm VisionTransformerDistilled), got "${c.pooling}"`, 'set pooling "token"');
  }
  if (c.distilled && c.numRegisterTokens > 0) {
    throw new ConfigError('config.distilled cannot be combined with register tokens (timm VisionTransformerDistilled has none)', 'set numRegisterTokens 0');
  }
  if (c.fcNorm && !c.finalNorm) throw new ConfigError('config.fcNorm needs config.finalNorm (fc_norm is the final norm, moved after pooling)', 'set fcNorm false');
  rate('dropout', c.dropout);
  rate('attentionDropout', c.attentionDropout);
  rate('dropPath', c.dropPath);
  if (c.labels !== undefined && c.numClasses > 0 && c.labels.length !== c.numClasses) {
    throw new ConfigError(`config.labels has ${c.labels.length} names but numClasses is ${c.numClasses}`, 'give one label per class');
  }
  // Last: every size is valid on its own, now bound what they allocate together.
  checkSizeLimits(c);
}

/** Patch grid [rows, cols] for a config. */
export function patchGrid(c: Pick<ViTConfig, 'imageSize' | 'patchSize'>): [number, number] {
  return [c.imageSize[0] / c.patchSize, c.imageSize[1] / c.patchSize];
}

/**
 * Tokens before the patch tokens, in timm order: class token, distillation token (distilled
 * models), then registers. (distilled and registers never combine.)
 */
export function numPrefixTokens(c: Pick<ViTConfig, 'classToken' | 'numRegisterTokens'> & Partial<Pick<ViTConfig, 'distilled'>>): number {
  return (c.classToken ? 1 : 0) + (c.distilled ? 1 : 0) + c.numRegisterTokens;
}

/** Total sequence length seen by the encoder. */
export function numTokens(c: ViTConfig): number {
  const [gh, gw] = patchGrid(c);
  return numPrefixTokens(c) + gh * gw;
}

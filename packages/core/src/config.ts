import { ConfigError } from './errors.js';

/** How the encoder output is reduced to one vector per image. */
export type Pooling = 'token' | 'mean';

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
  layerNormEps: number;
  qkvBias: boolean;
  classToken: boolean;
  /** Extra learnable tokens after the class token (DINOv2-style "registers"). */
  numRegisterTokens: number;
  /** True when position embeddings cover only the patch tokens (timm `no_embed_class`). */
  noEmbedClass: boolean;
  pooling: Pooling;
  /** Dropout after attention projection and MLP layers, in training mode only. */
  dropout: number;
  /** Dropout on attention probabilities, in training mode only. */
  attentionDropout: number;
  /** Stochastic-depth rate of the last block (linearly increasing from 0). */
  dropPath: number;
  /** Optional class names, index-aligned with the classifier outputs. */
  labels?: string[];
}

/** What users pass: any subset of ViTConfig, with `imageSize` also as one number. */
export type ViTConfigInput = Partial<Omit<ViTConfig, 'imageSize'>> & {
  imageSize?: number | [number, number];
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
  classToken: true,
  numRegisterTokens: 0,
  noEmbedClass: false,
  pooling: 'token',
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

/** Fills defaults, normalizes `imageSize`, and checks that the architecture is consistent. */
export function resolveConfig(input: ViTConfigInput = {}): ViTConfig {
  const imageSize: [number, number] =
    input.imageSize === undefined
      ? [...DEFAULT_CONFIG.imageSize]
      : typeof input.imageSize === 'number'
        ? [input.imageSize, input.imageSize]
        : [input.imageSize[0], input.imageSize[1]];
  const embedDim = input.embedDim ?? DEFAULT_CONFIG.embedDim;
  const config: ViTConfig = {
    ...DEFAULT_CONFIG,
    mlpDim: embedDim * 4,
    ...stripUndefined(input),
    imageSize,
  };
  validateConfig(config);
  return config;
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
  if (c.pooling !== 'token' && c.pooling !== 'mean') {
    throw new ConfigError(`config.pooling must be "token" or "mean", got ${String(c.pooling)}`);
  }
  if (c.pooling === 'token' && !c.classToken) {
    throw new ConfigError('config.pooling is "token" but config.classToken is false', 'use pooling "mean" for models without a class token');
  }
  rate('dropout', c.dropout);
  rate('attentionDropout', c.attentionDropout);
  rate('dropPath', c.dropPath);
  if (c.labels !== undefined && c.numClasses > 0 && c.labels.length !== c.numClasses) {
    throw new ConfigError(`config.labels has ${c.labels.length} names but numClasses is ${c.numClasses}`, 'give one label per class');
  }
}

/** Patch grid [rows, cols] for a config. */
export function patchGrid(c: Pick<ViTConfig, 'imageSize' | 'patchSize'>): [number, number] {
  return [c.imageSize[0] / c.patchSize, c.imageSize[1] / c.patchSize];
}

/** Tokens before the patch tokens: class token and registers. */
export function numPrefixTokens(c: Pick<ViTConfig, 'classToken' | 'numRegisterTokens'>): number {
  return (c.classToken ? 1 : 0) + c.numRegisterTokens;
}

/** Total sequence length seen by the encoder. */
export function numTokens(c: ViTConfig): number {
  const [gh, gw] = patchGrid(c);
  return numPrefixTokens(c) + gh * gw;
}

import { ConfigError, resolveConfig, type ViTConfig } from '@vitkit/core';
import type { RawTensors } from './raw_tensor.js';

export interface InferConfigOptions {
  /** Attention heads: checkpoints in PyTorch layouts do not record them. */
  numHeads?: number;
  /** Image size the checkpoint was trained at; needed only when its patch grid is not square. */
  imageSize?: number | [number, number];
  /** LayerNorm epsilon (not stored in checkpoints; default 1e-6 as in timm and torchvision). */
  layerNormEps?: number;
}

function intSqrt(n: number): number | undefined {
  const r = Math.round(Math.sqrt(n));
  return r * r === n ? r : undefined;
}

/**
 * Reads a ViT architecture off the shapes of timm-named tensors: widths,
 * depth, patch size, classes, tokens, and the image size from the position
 * embedding's grid. The head count is not in the shapes, so it must be given.
 */
export function inferConfig(tensors: RawTensors, options: InferConfigOptions = {}): ViTConfig {
  const proj = tensors.get('patch_embed.proj.weight');
  if (!proj || proj.shape.length !== 4) {
    throw new ConfigError('cannot infer the architecture: the checkpoint has no patch_embed.proj.weight [D, C, P, P]', 'pass a config or a preset');
  }
  const [embedDim, inChannels, ph, pw] = proj.shape as [number, number, number, number];
  if (ph !== pw) throw new ConfigError(`non-square patches (${ph}x${pw}) are not supported`);
  let depth = 0;
  while (tensors.has(`blocks.${depth}.attn.qkv.weight`) || tensors.has(`blocks.${depth}.norm1.weight`)) depth++;
  if (depth === 0) throw new ConfigError('cannot infer the architecture: the checkpoint has no encoder blocks (blocks.0.*)', 'pass a config or a preset');
  const fc1 = tensors.get('blocks.0.mlp.fc1.weight');
  const mlpDim = fc1?.shape[0] ?? embedDim * 4;
  const head = tensors.get('head.weight');
  const numClasses = head?.shape.length === 2 ? head.shape[0]! : 0;
  const classToken = tensors.has('cls_token');
  const distilled = tensors.has('dist_token');
  const numRegisterTokens = tensors.get('reg_token')?.shape[1] ?? 0;
  const prefix = (classToken ? 1 : 0) + (distilled ? 1 : 0) + numRegisterTokens;
  const pos = tensors.get('pos_embed');
  let imageSize: [number, number];
  let noEmbedClass = false;
  if (options.imageSize !== undefined) {
    imageSize = typeof options.imageSize === 'number' ? [options.imageSize, options.imageSize] : options.imageSize;
    const cells = (imageSize[0] / ph) * (imageSize[1] / ph);
    noEmbedClass = pos !== undefined && prefix > 0 && pos.shape[1] === cells;
  } else {
    const n = pos?.shape[1];
    if (n === undefined) throw new ConfigError('cannot infer the image size: the checkpoint has no pos_embed', 'pass imageSize');
    let grid = intSqrt(n - prefix);
    if (grid === undefined && prefix > 0) {
      grid = intSqrt(n);
      noEmbedClass = grid !== undefined;
    }
    if (grid === undefined) {
      throw new ConfigError(`cannot infer the image size from a position embedding of ${n} tokens (not a square grid)`, 'pass imageSize');
    }
    imageSize = [grid * ph, grid * ph];
  }
  if (options.numHeads === undefined) {
    throw new ConfigError(
      `the checkpoint does not record numHeads, the number of attention heads (embedDim ${embedDim})`,
      `pass numHeads (option numHeads, --num-heads N) or a preset; ViT-Ti/S/B/L/H use 3/6/12/16/16 heads`,
    );
  }
  return resolveConfig({
    imageSize,
    patchSize: ph,
    inChannels,
    embedDim,
    depth,
    numHeads: options.numHeads,
    mlpDim,
    numClasses,
    qkvBias: tensors.has('blocks.0.attn.qkv.bias'),
    classToken,
    distilled,
    numRegisterTokens,
    noEmbedClass,
    preNorm: tensors.has('norm_pre.weight'),
    patchEmbedBias: tensors.has('patch_embed.proj.bias'),
    qkNorm: tensors.has('blocks.0.attn.q_norm.weight'),
    // The init value is not in the weights (and does not matter once they are loaded); 1e-5 as DINOv2.
    layerScaleInit: tensors.has('blocks.0.ls1.gamma') ? 1e-5 : null,
    // timm's average-pooling models carry fc_norm (applied after pooling) instead of norm.
    pooling: tensors.has('attn_pool.latent') ? 'map' : classToken && !tensors.has('fc_norm.weight') ? 'token' : 'mean',
    fcNorm: tensors.has('fc_norm.weight'),
    finalNorm: tensors.has('norm.weight') || tensors.has('fc_norm.weight'),
    ...(options.layerNormEps !== undefined ? { layerNormEps: options.layerNormEps } : {}),
  });
}

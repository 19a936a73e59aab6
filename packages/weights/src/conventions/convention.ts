import { WeightsFormatError, listPreview } from '../errors.js';

/**
 * How a checkpoint names and lays out its tensors:
 * - `timm`: timm's VisionTransformer (vitkit's canonical names).
 * - `hf`: Hugging Face ViTForImageClassification (`vit.` prefix, `classifier`).
 * - `hf-model`: Hugging Face ViTModel (no prefix, no classifier, maybe a pooler).
 * - `torchvision`: torchvision.models.VisionTransformer.
 * - `jax`: google-research/vision_transformer .npz checkpoints.
 */
export const CONVENTIONS = ['timm', 'hf', 'hf-model', 'torchvision', 'jax'] as const;
export type Convention = (typeof CONVENTIONS)[number];

export function isConvention(s: unknown): s is Convention {
  return typeof s === 'string' && (CONVENTIONS as readonly string[]).includes(s);
}

/** Tells which convention a checkpoint uses from its tensor names. */
export function detectConvention(names: Iterable<string>): Convention {
  const keys = [...names];
  const has = (k: string) => keys.includes(k);
  const any = (prefix: string) => keys.some((k) => k.startsWith(prefix));
  if (has('embedding/kernel') || any('Transformer/')) return 'jax';
  if (has('conv_proj.weight') || any('encoder.layers.encoder_layer_')) return 'torchvision';
  if (any('vit.embeddings.') || any('vit.encoder.')) return 'hf';
  if (any('embeddings.patch_embeddings.') || any('encoder.layer.')) return 'hf-model';
  if (has('patch_embed.proj.weight') || any('blocks.')) return 'timm';
  throw new WeightsFormatError(
    `cannot tell which ViT convention the checkpoint uses (its tensors: ${keys.length ? listPreview(keys, 5) : 'none'})`,
    'vitkit reads timm, Hugging Face (ViTModel / ViTForImageClassification), torchvision and original JAX ViT checkpoints',
  );
}

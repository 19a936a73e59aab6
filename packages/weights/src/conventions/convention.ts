import { WeightsFormatError, listPreview } from '../errors.js';

/**
 * How a checkpoint names and lays out its tensors:
 * - `timm`: timm's VisionTransformer (vitkit's canonical names).
 * - `hf`: Hugging Face ViTForImageClassification (`vit.` prefix, `classifier`).
 * - `hf-model`: Hugging Face ViTModel (no prefix, no classifier, maybe a pooler).
 * - `torchvision`: torchvision.models.VisionTransformer.
 * - `jax`: google-research/vision_transformer .npz checkpoints.
 * - `hf-dinov2`, `hf-dinov2-reg`: Hugging Face Dinov2Model, Dinov2WithRegistersModel.
 * - `hf-clip`: Hugging Face CLIPVisionModel(WithProjection), or a CLIPModel's vision tower.
 * - `hf-siglip`: Hugging Face SiglipVisionModel, or a SiglipModel's vision tower.
 * - `hf-deit`: Hugging Face DeiTForImageClassificationWithTeacher (distilled DeiT).
 */
export const CONVENTIONS = ['timm', 'hf', 'hf-model', 'torchvision', 'jax', 'hf-dinov2', 'hf-dinov2-reg', 'hf-clip', 'hf-siglip', 'hf-deit'] as const;
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
  if (has('vision_model.embeddings.class_embedding')) return 'hf-clip';
  if (any('vision_model.embeddings.') || any('vision_model.encoder.')) return 'hf-siglip';
  if (any('deit.embeddings.') || any('deit.encoder.')) return 'hf-deit';
  if (has('embeddings.register_tokens')) return 'hf-dinov2-reg';
  if (any('encoder.layer.') && keys.some((k) => k.includes('.layer_scale1.'))) return 'hf-dinov2';
  if (any('vit.embeddings.') || any('vit.encoder.')) return 'hf';
  if (any('embeddings.patch_embeddings.') || any('encoder.layer.')) return 'hf-model';
  if (has('patch_embed.proj.weight') || any('blocks.')) return 'timm';
  throw new WeightsFormatError(
    `cannot tell which ViT convention the checkpoint uses (its tensors: ${keys.length ? listPreview(keys, 5) : 'none'})`,
    'vitkit reads timm, Hugging Face (ViT, DeiT, DINOv2, CLIP and SigLIP vision models), torchvision and original JAX ViT checkpoints',
  );
}

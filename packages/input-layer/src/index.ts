export { PatchEmbedding, type PatchEmbeddingConfig, type PatchEmbeddingOptions, type PatchEmbeddingConfigInput } from './patch_embedding.js';
export { ViTInputLayer, type InputLayerConfig, type InputLayerOptions, type InputLayerForwardOptions, type InputLayerConfigInput } from './vit_input_layer.js';
export { assertImageBatch, resolveImageSpec, type ImageBatchSpec, type ImageSizeInput, type ShapeAndType } from './image_batch.js';
export * from './resample_pos_embed.js';

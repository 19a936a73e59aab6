export { Attention, type AttentionOptions, type AttentionForwardOptions, type AttentionOutput } from './attention.js';
export { Mlp, type MlpOptions } from './mlp.js';
export { LayerScale } from './layer_scale.js';
export { Block, type BlockConfig, type BlockForwardOptions } from './block.js';
export {
  ViTEncoder,
  dropPathRates,
  type EncoderConfig,
  type EncoderOptions,
  type EncoderForwardOptions,
  type EncoderOutput,
} from './vit_encoder.js';
export { scaledDotProduct, type ScaledDotProductOptions, type ScaledDotProductResult } from './scaled_dot_product.js';

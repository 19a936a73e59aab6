export { ViTHead, type HeadConfig, type HeadOptions, type HeadOutput } from './vit_head.js';
export { AttentionPoolLatent, type AttentionPoolConfig } from './attention_pool.js';
export { poolTokens } from './pooling.js';

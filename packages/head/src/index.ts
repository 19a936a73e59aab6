export { ViTHead, type HeadConfig, type HeadOptions, type HeadOutput } from './vit_head.js';
export { poolTokens } from './pooling.js';

import { patchGrid, numPrefixTokens, type ViTConfig } from '@vitkit/core';
import { CheckpointKeysError, CheckpointShapeError } from './errors.js';
import { sameShape, type RawTensors } from './raw_tensor.js';

/**
 * Every tensor of a timm VisionTransformer with this config, with its
 * PyTorch shape: the canonical state-dict layout vitkit models load.
 */
export function timmShapes(config: ViTConfig): Map<string, number[]> {
  const d = config.embedDim;
  const p = config.patchSize;
  const [gh, gw] = patchGrid(config);
  const shapes = new Map<string, number[]>();
  shapes.set('patch_embed.proj.weight', [d, config.inChannels, p, p]);
  if (config.patchEmbedBias) shapes.set('patch_embed.proj.bias', [d]);
  if (config.classToken) shapes.set('cls_token', [1, 1, d]);
  if (config.distilled) shapes.set('dist_token', [1, 1, d]);
  if (config.numRegisterTokens > 0) shapes.set('reg_token', [1, config.numRegisterTokens, d]);
  shapes.set('pos_embed', [1, (config.noEmbedClass ? 0 : numPrefixTokens(config)) + gh * gw, d]);
  if (config.preNorm) {
    shapes.set('norm_pre.weight', [d]);
    shapes.set('norm_pre.bias', [d]);
  }
  const headDim = d / config.numHeads;
  for (let i = 0; i < config.depth; i++) {
    const b = `blocks.${i}`;
    shapes.set(`${b}.norm1.weight`, [d]);
    shapes.set(`${b}.norm1.bias`, [d]);
    shapes.set(`${b}.attn.qkv.weight`, [3 * d, d]);
    if (config.qkvBias) shapes.set(`${b}.attn.qkv.bias`, [3 * d]);
    if (config.qkNorm) {
      for (const n of ['q_norm', 'k_norm']) for (const w of ['weight', 'bias']) shapes.set(`${b}.attn.${n}.${w}`, [headDim]);
    }
    shapes.set(`${b}.attn.proj.weight`, [d, d]);
    shapes.set(`${b}.attn.proj.bias`, [d]);
    if (config.layerScaleInit !== null) shapes.set(`${b}.ls1.gamma`, [d]);
    shapes.set(`${b}.norm2.weight`, [d]);
    shapes.set(`${b}.norm2.bias`, [d]);
    shapes.set(`${b}.mlp.fc1.weight`, [config.mlpDim, d]);
    shapes.set(`${b}.mlp.fc1.bias`, [config.mlpDim]);
    shapes.set(`${b}.mlp.fc2.weight`, [d, config.mlpDim]);
    shapes.set(`${b}.mlp.fc2.bias`, [d]);
    if (config.layerScaleInit !== null) shapes.set(`${b}.ls2.gamma`, [d]);
  }
  // timm normalizes all tokens before pooling (norm), or the pooled vector (fc_norm, default for
  // average pooling), or neither (final_norm off).
  if (config.finalNorm) {
    const finalNorm = config.fcNorm ? 'fc_norm' : 'norm';
    shapes.set(`${finalNorm}.weight`, [d]);
    shapes.set(`${finalNorm}.bias`, [d]);
  }
  if (config.pooling === 'map') {
    // timm AttentionPoolLatent(embed_dim, num_heads, mlp_ratio): always with q/kv biases, one latent query.
    shapes.set('attn_pool.latent', [1, 1, d]);
    shapes.set('attn_pool.q.weight', [d, d]);
    shapes.set('attn_pool.q.bias', [d]);
    shapes.set('attn_pool.kv.weight', [2 * d, d]);
    shapes.set('attn_pool.kv.bias', [2 * d]);
    shapes.set('attn_pool.proj.weight', [d, d]);
    shapes.set('attn_pool.proj.bias', [d]);
    shapes.set('attn_pool.norm.weight', [d]);
    shapes.set('attn_pool.norm.bias', [d]);
    shapes.set('attn_pool.mlp.fc1.weight', [config.mlpDim, d]);
    shapes.set('attn_pool.mlp.fc1.bias', [config.mlpDim]);
    shapes.set('attn_pool.mlp.fc2.weight', [d, config.mlpDim]);
    shapes.set('attn_pool.mlp.fc2.bias', [d]);
  }
  if (config.numClasses > 0) {
    for (const head of config.distilled ? ['head', 'head_dist'] : ['head']) {
      shapes.set(`${head}.weight`, [config.numClasses, d]);
      shapes.set(`${head}.bias`, [config.numClasses]);
    }
  }
  return shapes;
}

/**
 * Checks timm-named tensors against a config: missing and unexpected names
 * (all listed), then each shape (name, expected, got).
 */
export function checkTimmTensors(tensors: RawTensors, config: ViTConfig): void {
  const expected = timmShapes(config);
  const missing = [...expected.keys()].filter((k) => !tensors.has(k));
  const unexpected = [...tensors.keys()].filter((k) => !expected.has(k));
  if (missing.length || unexpected.length) throw new CheckpointKeysError(missing, unexpected);
  for (const [name, shape] of expected) {
    const t = tensors.get(name)!;
    if (!sameShape(t.shape, shape)) throw new CheckpointShapeError(name, shape, t.shape);
  }
}

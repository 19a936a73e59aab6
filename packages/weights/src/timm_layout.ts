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
  shapes.set('patch_embed.proj.bias', [d]);
  if (config.classToken) shapes.set('cls_token', [1, 1, d]);
  if (config.numRegisterTokens > 0) shapes.set('reg_token', [1, config.numRegisterTokens, d]);
  shapes.set('pos_embed', [1, (config.noEmbedClass ? 0 : numPrefixTokens(config)) + gh * gw, d]);
  for (let i = 0; i < config.depth; i++) {
    const b = `blocks.${i}`;
    shapes.set(`${b}.norm1.weight`, [d]);
    shapes.set(`${b}.norm1.bias`, [d]);
    shapes.set(`${b}.attn.qkv.weight`, [3 * d, d]);
    if (config.qkvBias) shapes.set(`${b}.attn.qkv.bias`, [3 * d]);
    shapes.set(`${b}.attn.proj.weight`, [d, d]);
    shapes.set(`${b}.attn.proj.bias`, [d]);
    shapes.set(`${b}.norm2.weight`, [d]);
    shapes.set(`${b}.norm2.bias`, [d]);
    shapes.set(`${b}.mlp.fc1.weight`, [config.mlpDim, d]);
    shapes.set(`${b}.mlp.fc1.bias`, [config.mlpDim]);
    shapes.set(`${b}.mlp.fc2.weight`, [d, config.mlpDim]);
    shapes.set(`${b}.mlp.fc2.bias`, [d]);
  }
  // timm normalizes after pooling (fc_norm) when it averages tokens, before pooling (norm) otherwise.
  const finalNorm = config.pooling === 'mean' ? 'fc_norm' : 'norm';
  shapes.set(`${finalNorm}.weight`, [d]);
  shapes.set(`${finalNorm}.bias`, [d]);
  if (config.numClasses > 0) {
    shapes.set('head.weight', [config.numClasses, d]);
    shapes.set('head.bias', [config.numClasses]);
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

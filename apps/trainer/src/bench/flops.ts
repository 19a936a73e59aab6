import { numTokens, patchGrid, type ViTConfig } from '@vitkit/core';

/**
 * Floating-point operations (multiply and add counted separately) of one
 * forward pass for one image: the matrix products, which dominate; norms,
 * softmax and GELU are a few percent and left out, as benchmarks usually do.
 */
export function forwardFlopsPerImage(c: ViTConfig): number {
  const [gh, gw] = patchGrid(c);
  const patches = gh * gw;
  const t = numTokens(c);
  const d = c.embedDim;
  const patchEmbed = 2 * patches * c.patchSize * c.patchSize * c.inChannels * d;
  const perBlock =
    2 * t * d * 3 * d + // qkv
    2 * 2 * t * t * d + // QK^T and AV
    2 * t * d * d + // output projection
    2 * 2 * t * d * c.mlpDim; // fc1 and fc2
  const head = 2 * d * c.numClasses;
  return patchEmbed + c.depth * perBlock + head;
}

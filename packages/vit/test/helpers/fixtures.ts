// Loads the vit-micro reference fixtures. A missing fixture is an error, never a skip.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { parseNpy, resolveConfig, type ViTConfig } from '@vitkit/core';
import { readSafetensors } from './safetensors.js';

export const VIT_MICRO_DIR = fileURLToPath(new URL('../../../../fixtures/reference/vit-micro/', import.meta.url));

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(VIT_MICRO_DIR + name));
}

export function loadNpy(name: string): tf.Tensor {
  const a = parseNpy(fixtureBytes(name));
  return tf.tensor(a.data, a.shape, a.dtype === 'uint8' ? 'int32' : a.dtype);
}

/** The vit-micro architecture, from manifest.json. */
export function microConfig(): ViTConfig {
  const manifest = JSON.parse(new TextDecoder().decode(fixtureBytes('manifest.json'))) as {
    config: { image_size: number; patch_size: number; depth: number; num_heads: number; hidden_dim: number; mlp_dim: number; num_classes: number };
    layer_norm_eps: number;
  };
  const c = manifest.config;
  return resolveConfig({
    imageSize: c.image_size,
    patchSize: c.patch_size,
    depth: c.depth,
    numHeads: c.num_heads,
    embedDim: c.hidden_dim,
    mlpDim: c.mlp_dim,
    numClasses: c.num_classes,
    layerNormEps: manifest.layer_norm_eps,
  });
}

export function loadTimmState(): Map<string, tf.Tensor> {
  return readSafetensors(fixtureBytes('timm.safetensors'));
}

/** Largest absolute difference between two tensors of the same shape. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  if (a.shape.join(',') !== b.shape.join(',')) throw new Error(`shape mismatch: [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`);
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i]! - y[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

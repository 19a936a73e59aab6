import * as tf from '@tensorflow/tfjs-core';
import { attentionGradConfig } from './attention.js';
import { geluGradConfig } from './gelu.js';
import { layerNormGradConfig } from './layer_norm.js';

/**
 * Registers the fused forward kernels' gradients (backend-independent: each
 * launches the backward kernel of whatever backend is active), each once:
 * tfjs warns when a gradient is registered twice.
 */
export function registerFusedGradients(): void {
  for (const config of [layerNormGradConfig, geluGradConfig, attentionGradConfig]) {
    if ((tf.getGradient(config.kernelName) as tf.GradConfig | undefined) === undefined) tf.registerGradient(config);
  }
}

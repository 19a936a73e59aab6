import type { TrainableModel } from './model.js';

/**
 * Switches a VisionTransformer-like model (one with
 * `encoder.setAttentionStrategy`) to batched attention products, whatever
 * the model's `auto` strategy would pick (it already picks batched for small
 * heads). Models without that method are left alone.
 */
export function useBatchedAttention(model: TrainableModel): void {
  const encoder = (model as unknown as { encoder?: { setAttentionStrategy?: (s: 'batched') => void } }).encoder;
  encoder?.setAttentionStrategy?.('batched');
}

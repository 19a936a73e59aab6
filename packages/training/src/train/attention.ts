import type { TrainableModel } from './model.js';

/**
 * Switches a VisionTransformer-like model (one with
 * `encoder.setAttentionStrategy`) to batched attention products. On wasm the
 * model's `auto` strategy picks one 2-D product per (image, head), which is
 * fastest for single images but splits a training batch into thousands of
 * tiny products (measured 6x slower for batch 128). Models without that
 * method are left alone.
 */
export function useBatchedAttention(model: TrainableModel): void {
  const encoder = (model as unknown as { encoder?: { setAttentionStrategy?: (s: 'batched') => void } }).encoder;
  encoder?.setAttentionStrategy?.('batched');
}

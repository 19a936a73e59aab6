import * as tf from '@tensorflow/tfjs-core';
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL, kernelPays } from '../backends/fused/index.js';

export interface FusedAttentionOptions {
  /** Tokens per image (T): qkv holds batch * T rows. */
  tokens: number;
  heads: number;
  /** Multiplies q k^T (timm: head_dim ** -0.5). */
  scale: number;
}

export interface FusedAttentionResult {
  /** softmax(q k^T scale) v with heads merged, [B*T, D]: what the output projection takes. */
  context: tf.Tensor2D;
  /** The softmax probabilities, [B, H, T, T]. */
  probs: tf.Tensor4D;
}

/** Whether to launch the fused kernel: float32, and registered for the active backend and faster there at this size. */
function useAttentionKernel(qkv: tf.Tensor2D, options: FusedAttentionOptions): boolean {
  return qkv.dtype === 'float32' && kernelPays(ATTENTION_KERNEL, { tokens: options.tokens, headDim: qkv.shape[1] / 3 / options.heads });
}

/**
 * Multi-head self-attention from timm's fused qkv projection ([B*T, 3D],
 * columns q | k | v of H heads each) as one fused kernel launch (and one
 * backward), where the active backend has it registered and it pays
 * (`kernelPays`: on wasm, wasmAttentionPays); undefined elsewhere, and for other dtypes, so the
 * caller runs its composite ops (which it also must for attention dropout:
 * the kernel has none).
 */
export function fusedAttention(qkv: tf.Tensor2D, options: FusedAttentionOptions): FusedAttentionResult | undefined {
  if (!useAttentionKernel(qkv, options)) return undefined;
  const [context, probs] = tf.engine().runKernel(ATTENTION_KERNEL, { qkv }, { ...options }) as [tf.Tensor2D, tf.Tensor4D];
  return { context, probs };
}

/**
 * The context alone (see fusedAttention), for training: recorded as one
 * node whose only output is the context. Differentiating the two-output
 * kernel makes tfjs fill a zero gradient for the probabilities ([B, H, T, T],
 * in JS, then uploaded) on every backward pass.
 */
export function fusedAttentionContext(qkv: tf.Tensor2D, options: FusedAttentionOptions): tf.Tensor2D | undefined {
  if (!useAttentionKernel(qkv, options)) return undefined;
  const attrs = { ...options };
  const run = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const [context, probs] = tf.engine().runKernel(ATTENTION_KERNEL, { qkv: x }, attrs) as [tf.Tensor, tf.Tensor];
    save([x, probs]);
    return {
      value: context,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => (tf.engine().runKernel(ATTENTION_GRAD_KERNEL, { dy, qkv: saved[0]!, probs: saved[1]! }, attrs) as tf.Tensor[])[0]!,
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return run(qkv) as tf.Tensor2D;
}

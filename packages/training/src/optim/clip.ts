import * as tf from '@tensorflow/tfjs-core';
import { allocateFloat32, float32Storage, fusedOpsEnabled } from '@vitkit/core';

/** The L2 norm of all tensors taken together, as one number tensor. Caller disposes. */
export function globalNorm(tensors: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    if (tensors.length === 0) return tf.scalar(0);
    return tf.sqrt(tf.addN(tensors.map((t) => tf.sum(tf.square(t))))) as tf.Scalar;
  });
}

export interface ClipResult<T> {
  /** The clipped gradients (new tensors; the inputs are not disposed). */
  grads: T;
  /** The global norm before clipping. */
  norm: number;
}

/**
 * clipByGlobalNorm on the wasm backend without kernels: the sum of squares
 * accumulated in double precision in one pass over the module's memory, and
 * the scaled copies written there (each product rounded to float32, as
 * tf.mul does). Undefined where it does not apply (other backends, fused ops
 * off, non-float32 gradients).
 */
function fusedClip(grads: Record<string, tf.Tensor>, names: string[], maxNorm: number): ClipResult<Record<string, tf.Tensor>> | undefined {
  if (!fusedOpsEnabled() || tf.getBackend() !== 'wasm' || names.length === 0 || names.some((n) => grads[n]!.dtype !== 'float32')) return undefined;
  const out: Record<string, tf.Tensor> = {};
  for (const n of names) out[n] = allocateFloat32(grads[n]!.shape)!;
  // Views only after every allocation: an allocation may grow (move) the heap.
  const src = names.map((n) => float32Storage(grads[n]!, false)!);
  let sumSq = 0;
  for (const g of src) for (let i = 0; i < g.length; i++) sumSq += g[i]! * g[i]!;
  const norm = Math.sqrt(sumSq);
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  const c = Math.fround(coef);
  names.forEach((n, k) => {
    const o = float32Storage(out[n]!, false)!;
    const g = src[k]!;
    if (coef < 1) for (let i = 0; i < g.length; i++) o[i] = g[i]! * c;
    else o.set(g);
  });
  return { grads: out, norm };
}

/**
 * Global-norm gradient clipping as torch.nn.utils.clip_grad_norm_ does it:
 * every gradient is multiplied by min(1, maxNorm / (norm + 1e-6)).
 * Returns new tensors; the caller disposes both the inputs and the outputs.
 * On the wasm backend one pass without kernels (fusedClip).
 */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): ClipResult<Record<string, tf.Tensor>> {
  const names = Object.keys(grads);
  const fused = fusedClip(grads, names, maxNorm);
  if (fused) return fused;
  const normT = globalNorm(names.map((n) => grads[n]!));
  const norm = normT.dataSync()[0]!;
  normT.dispose();
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  const out: Record<string, tf.Tensor> = {};
  for (const n of names) out[n] = coef < 1 ? tf.tidy(() => tf.mul(grads[n]!, coef)) : grads[n]!.clone();
  return { grads: out, norm };
}

import * as tf from '@tensorflow/tfjs-core';
import { CLIP_BY_GLOBAL_NORM_KERNEL, kernelRegistered, type ClipKernelAttrs } from '@vitkit/core';

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

type Grads = Record<string, tf.Tensor>;

/** The clipped gradients and the norm tensor from vitkit's one-launch kernel, where the active backend registers it (wasm, cpu). */
function fusedClip(grads: Grads, names: string[], maxNorm: number): { grads: Grads; normT: tf.Tensor } | undefined {
  if (names.length === 0 || !kernelRegistered(CLIP_BY_GLOBAL_NORM_KERNEL) || !names.every((n) => grads[n]!.dtype === 'float32')) return undefined;
  const inputs: tf.NamedTensorMap = {};
  names.forEach((n, i) => (inputs[`grad${i}`] = grads[n]!));
  const attrs: ClipKernelAttrs = { count: names.length, maxNorm };
  const out = tf.engine().runKernel(CLIP_BY_GLOBAL_NORM_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  const normT = out.pop()!;
  return { grads: Object.fromEntries(names.map((n, i) => [n, out[i]!])), normT };
}

/** Every gradient times min(1, maxNorm / (norm + 1e-6)), as tfjs ops. */
function scaled(grads: Grads, names: string[], norm: number, maxNorm: number): Grads {
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  const out: Grads = {};
  for (const n of names) out[n] = coef < 1 ? tf.tidy(() => tf.mul(grads[n]!, coef)) : grads[n]!.clone();
  return out;
}

/**
 * Global-norm gradient clipping as torch.nn.utils.clip_grad_norm_ does it:
 * every gradient is multiplied by min(1, maxNorm / (norm + 1e-6)).
 * Returns new tensors; the caller disposes both the inputs and the outputs.
 * One kernel launch where the active backend registers vitkit's (wasm, cpu).
 */
export function clipByGlobalNorm(grads: Grads, maxNorm: number): ClipResult<Grads> {
  const names = Object.keys(grads);
  const fused = fusedClip(grads, names, maxNorm);
  if (fused) {
    const norm = fused.normT.dataSync()[0]!;
    fused.normT.dispose();
    return { grads: fused.grads, norm };
  }
  const normT = globalNorm(names.map((n) => grads[n]!));
  const norm = normT.dataSync()[0]!;
  normT.dispose();
  return { grads: scaled(grads, names, norm, maxNorm), norm };
}

/**
 * clipByGlobalNorm() reading the norm with `await data()`: the same numbers,
 * for backends whose synchronous reads are slow or unreliable (webgpu,
 * notably in workers).
 */
export async function clipByGlobalNormAsync(grads: Grads, maxNorm: number): Promise<ClipResult<Grads>> {
  const names = Object.keys(grads);
  const fused = fusedClip(grads, names, maxNorm);
  if (fused) {
    try {
      return { grads: fused.grads, norm: (await fused.normT.data())[0]! };
    } catch (e) {
      tf.dispose(Object.values(fused.grads));
      throw e;
    } finally {
      fused.normT.dispose();
    }
  }
  const normT = globalNorm(names.map((n) => grads[n]!));
  let norm: number;
  try {
    norm = (await normT.data())[0]!;
  } finally {
    normT.dispose();
  }
  return { grads: scaled(grads, names, norm, maxNorm), norm };
}

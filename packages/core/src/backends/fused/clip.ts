import type * as tf from '@tensorflow/tfjs-core';
import type { FloatStorage, KernelArgs } from './storage.js';

/**
 * Global-norm gradient clipping in one kernel launch (the tfjs ops launch
 * Square + Sum per tensor, AddN, Sqrt, then Multiply per tensor).
 *
 * Inputs `grad{i}`, i = 0..n-1 (float32); attrs `count` (n) and `maxNorm`.
 * Outputs: the n clipped gradients, then the norm before clipping as a
 * float32 scalar. As torch.nn.utils.clip_grad_norm_: coef = maxNorm /
 * (norm + 1e-6), applied (rounded to float32, then each product rounded) only
 * when below 1. The sum of squares is accumulated in double.
 */
export const CLIP_BY_GLOBAL_NORM_KERNEL = 'VitkitClipByGlobalNorm';

export interface ClipKernelAttrs {
  count: number;
  maxNorm: number;
}

export function clipByGlobalNormKernel(args: KernelArgs, storage: FloatStorage): tf.TensorInfo[] {
  const { count, maxNorm } = args.attrs as unknown as ClipKernelAttrs;
  const grads = Array.from({ length: count }, (_, i) => args.inputs[`grad${i}`]!);
  const outputs = grads.map((g) => storage.alloc(g.shape));
  const normOut = storage.alloc([]);
  let sumSq = 0;
  const views = grads.map((g) => storage.view(g));
  for (const g of views) for (let j = 0; j < g.length; j++) sumSq += g[j]! * g[j]!;
  const norm = Math.sqrt(sumSq);
  const coef = maxNorm / (norm + 1e-6);
  const c = Math.fround(coef);
  views.forEach((g, i) => {
    const out = storage.view(outputs[i]!);
    if (coef < 1) for (let j = 0; j < g.length; j++) out[j] = g[j]! * c;
    else out.set(g);
  });
  storage.view(normOut)[0] = norm;
  return [...outputs, normOut];
}

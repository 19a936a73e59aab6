import * as tf from '@tensorflow/tfjs-core';
import { ADAMW_KERNEL, adamwKernel } from './adamw.js';
import { CLIP_BY_GLOBAL_NORM_KERNEL, clipByGlobalNormKernel } from './clip.js';
import { LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL, layerNormGradConfig, layerNormGradKernel, layerNormKernel } from './layer_norm.js';
import { floatStorage, FUSED_BACKENDS, type FloatStorage, type FusedBackendName, type KernelArgs } from './storage.js';

/**
 * vitkit's fused kernels (multi-tensor AdamW, global-norm clipping,
 * LayerNorm forward/backward), registered per backend with tfjs's kernel
 * registry by setupBackend. Ops that use them (layerNorm, AdamW,
 * clipByGlobalNorm) ask `kernelRegistered` whether the active backend has
 * one and otherwise run their composite tfjs ops: that question, asked of
 * the registry, is the only place a backend decides the path.
 *
 * The cpu and wasm kernels are JS loops over the backend's own memory (no
 * copies); GPU backends have none and keep the composite ops.
 */

const KERNELS: [string, (args: KernelArgs, storage: FloatStorage) => tf.TensorInfo[]][] = [
  [ADAMW_KERNEL, adamwKernel],
  [CLIP_BY_GLOBAL_NORM_KERNEL, clipByGlobalNormKernel],
  [LAYER_NORM_KERNEL, layerNormKernel],
  [LAYER_NORM_GRAD_KERNEL, layerNormGradKernel],
];

let gradientRegistered = false;

function isFusedBackend(name: string): name is FusedBackendName {
  return (FUSED_BACKENDS as readonly string[]).includes(name);
}

/** Registers the fused kernels for `backendName` (idempotent); false where vitkit has none for it. */
export function installFusedKernels(backendName: string): boolean {
  if (!isFusedBackend(backendName)) return false;
  if (!gradientRegistered) {
    tf.registerGradient(layerNormGradConfig);
    gradientRegistered = true;
  }
  for (const [kernelName, body] of KERNELS) {
    if (tf.getKernel(kernelName, backendName)) continue;
    tf.registerKernel({
      kernelName,
      backendName,
      kernelFunc: ((args: KernelArgs) => body(args, floatStorage(backendName, args.backend))) as unknown as tf.KernelFunc,
    });
  }
  return true;
}

/** Removes the fused kernels for `backendName` (ops fall back to the composite tfjs ops); returns whether any were registered. */
export function uninstallFusedKernels(backendName: string): boolean {
  let any = false;
  for (const [kernelName] of KERNELS) {
    if (!tf.getKernel(kernelName, backendName)) continue;
    tf.unregisterKernel(kernelName, backendName);
    any = true;
  }
  return any;
}

/** Whether the active backend has kernel `name` registered: how fused ops choose their path. */
export function kernelRegistered(name: string): boolean {
  return tf.getKernel(name, tf.engine().backendName) !== undefined;
}

export { ADAMW_KERNEL, CLIP_BY_GLOBAL_NORM_KERNEL, LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL };
export type { AdamWKernelAttrs } from './adamw.js';
export type { ClipKernelAttrs } from './clip.js';

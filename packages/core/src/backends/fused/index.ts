import * as tf from '@tensorflow/tfjs-core';
import { installGpuKernels, isGpuBackend, uninstallGpuKernels } from '../gpu/index.js';
import { wasmAttentionPays } from '../wasm/attention.js';
import { ADAMW_KERNEL, adamwKernel } from './adamw.js';
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL, attentionGradKernel, attentionKernel } from './attention.js';
import { CLIP_BY_GLOBAL_NORM_KERNEL, clipByGlobalNormKernel } from './clip.js';
import { GELU_GRAD_KERNEL, GELU_KERNEL, geluGradKernel, geluKernel, geluKernelsAvailable } from './gelu.js';
import { registerFusedGradients } from './gradients.js';
import { LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL, layerNormGradKernel, layerNormKernel } from './layer_norm.js';
import { floatStorage, FUSED_BACKENDS, type FloatStorage, type FusedBackendName, type KernelArgs } from './storage.js';

/**
 * vitkit's fused kernels (multi-tensor AdamW, global-norm clipping,
 * LayerNorm forward/backward, exact GELU forward/backward, multi-head
 * attention forward/backward), registered per backend with tfjs's kernel
 * registry by setupBackend. Ops that use them (layerNorm, AdamW,
 * clipByGlobalNorm) ask `kernelRegistered` whether the active backend has
 * one and otherwise run their composite tfjs ops: that question, asked of
 * the registry, is the only place a backend decides the path.
 *
 * The cpu kernels are JS loops over the backend's own memory; on wasm SIMD
 * modules run on the backend's memory (backends/wasm/*.wat; GELU is
 * registered only where wasm SIMD exists). On webgl and webgpu, LayerNorm
 * and GELU are shader programs (backends/gpu); the other ops keep their
 * composite tfjs ops there.
 */

type KernelBody = (args: KernelArgs, storage: FloatStorage) => tf.TensorInfo[];

const KERNELS: [string, KernelBody][] = [
  [ADAMW_KERNEL, adamwKernel],
  [CLIP_BY_GLOBAL_NORM_KERNEL, clipByGlobalNormKernel],
  [LAYER_NORM_KERNEL, layerNormKernel],
  [LAYER_NORM_GRAD_KERNEL, layerNormGradKernel],
  [GELU_KERNEL, geluKernel],
  [GELU_GRAD_KERNEL, geluGradKernel],
  [ATTENTION_KERNEL, attentionKernel],
  [ATTENTION_GRAD_KERNEL, attentionGradKernel],
];

/** Kernels that need more than JS to run: registered only where `available` says so. */
const AVAILABLE: Partial<Record<string, () => boolean>> = {
  [GELU_KERNEL]: geluKernelsAvailable,
  [GELU_GRAD_KERNEL]: geluKernelsAvailable,
};

function isFusedBackend(name: string): name is FusedBackendName {
  return (FUSED_BACKENDS as readonly string[]).includes(name);
}

/** Whether `kernelName` is one of `only` (all kernels when `only` is not given). */
const selected = (kernelName: string, only?: readonly string[]): boolean => only === undefined || only.includes(kernelName);

/**
 * Registers the fused kernels for `backendName` (idempotent; webgl and
 * webgpu only once tfjs has that backend registered); false where vitkit
 * has none for it. `only` limits it to those kernel names (benchmarks
 * compare one kernel at a time).
 */
export function installFusedKernels(backendName: string, only?: readonly string[]): boolean {
  if (isGpuBackend(backendName)) return installGpuKernels(backendName, only);
  if (!isFusedBackend(backendName)) return false;
  registerFusedGradients();
  for (const [kernelName, body] of KERNELS) {
    if (!selected(kernelName, only) || tf.getKernel(kernelName, backendName) || AVAILABLE[kernelName]?.() === false) continue;
    tf.registerKernel({
      kernelName,
      backendName,
      kernelFunc: ((args: KernelArgs) => body(args, floatStorage(backendName, args.backend))) as unknown as tf.KernelFunc,
    });
  }
  return true;
}

/** Removes the fused kernels (or `only` those) for `backendName` (ops fall back to the composite tfjs ops); returns whether any were registered. */
export function uninstallFusedKernels(backendName: string, only?: readonly string[]): boolean {
  if (isGpuBackend(backendName)) return uninstallGpuKernels(backendName, only);
  let any = false;
  for (const [kernelName] of KERNELS) {
    if (!selected(kernelName, only) || !tf.getKernel(kernelName, backendName)) continue;
    tf.unregisterKernel(kernelName, backendName);
    any = true;
  }
  return any;
}

/**
 * Per kernel and backend, whether a launch beats the composite ops at the
 * given sizes (kernels not listed: always). The backend-specific rule lives
 * with that backend's kernel; ops only ask `kernelPays`.
 */
const PAYS: Partial<Record<string, Partial<Record<string, (backend: unknown, sizes: Record<string, number>) => boolean>>>> = {
  [ATTENTION_KERNEL]: { wasm: (backend, { tokens, headDim }) => wasmAttentionPays(backend, tokens!, headDim!) },
};

/** Whether the active backend has kernel `name` and a launch at `sizes` pays there: how size-dependent fused ops choose their path. */
export function kernelPays(name: string, sizes: Record<string, number>): boolean {
  const backendName = tf.engine().backendName;
  if (tf.getKernel(name, backendName) === undefined) return false;
  return PAYS[name]?.[backendName]?.(tf.backend(), sizes) ?? true;
}

/** Whether the active backend has kernel `name` registered: how fused ops choose their path. */
export function kernelRegistered(name: string): boolean {
  return tf.getKernel(name, tf.engine().backendName) !== undefined;
}

export { ADAMW_KERNEL, ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL, CLIP_BY_GLOBAL_NORM_KERNEL, GELU_GRAD_KERNEL, GELU_KERNEL, LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL };
export type { AdamWKernelAttrs } from './adamw.js';
export type { AttentionKernelAttrs } from './attention.js';
export type { ClipKernelAttrs } from './clip.js';
export type { GeluForm } from './gelu.js';

import * as tf from '@tensorflow/tfjs-core';
import { GELU_GRAD_KERNEL, GELU_KERNEL } from '../fused/gelu.js';
import { registerFusedGradients } from '../fused/gradients.js';
import { LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL } from '../fused/layer_norm.js';
import type { KernelArgs } from '../fused/storage.js';
import { webglGelu, webglGeluGrad } from './webgl_gelu.js';
import { webglLayerNorm, webglLayerNormGrad } from './webgl_layer_norm.js';
import { webgpuGelu, webgpuGeluGrad } from './webgpu_gelu.js';
import { webgpuLayerNorm, webgpuLayerNormGrad } from './webgpu_layer_norm.js';

/**
 * vitkit's fused LayerNorm and GELU kernels for the GPU backends (webgl,
 * webgpu), registered under the names of the cpu/wasm ones
 * (backends/fused): the ops in nn/functional.ts find them through
 * `kernelRegistered` and launch 3-4 shader programs per LayerNorm and one
 * per GELU instead of tfjs's composite ops (~9 kernels forward and ~25
 * backward per LayerNorm, 5 and ~10 per GELU). Each kernel runs programs
 * through the backend object tfjs hands it; the backends are typed by shape
 * (webgl_program.ts, webgpu_program.ts), so @vitkit/core still needs only
 * tfjs-core. The gradients are the backend-independent configs of
 * backends/fused. installFusedKernels / uninstallFusedKernels delegate here
 * for these backends.
 */

type KernelBody = (args: KernelArgs) => tf.TensorInfo[];

const KERNELS = {
  webgl: [
    [LAYER_NORM_KERNEL, webglLayerNorm],
    [LAYER_NORM_GRAD_KERNEL, webglLayerNormGrad],
    [GELU_KERNEL, webglGelu],
    [GELU_GRAD_KERNEL, webglGeluGrad],
  ],
  webgpu: [
    [LAYER_NORM_KERNEL, webgpuLayerNorm],
    [LAYER_NORM_GRAD_KERNEL, webgpuLayerNormGrad],
    [GELU_KERNEL, webgpuGelu],
    [GELU_GRAD_KERNEL, webgpuGeluGrad],
  ],
} satisfies Record<string, [string, KernelBody][]>;

/** The backends with GPU kernels here. */
export const GPU_BACKENDS = ['webgl', 'webgpu'] as const;
export type GpuBackendName = (typeof GPU_BACKENDS)[number];

export function isGpuBackend(name: string): name is GpuBackendName {
  return (GPU_BACKENDS as readonly string[]).includes(name);
}

/** Whether `kernelName` is one of `only` (all kernels when `only` is not given). */
const selected = (kernelName: string, only?: readonly string[]): boolean => only === undefined || only.includes(kernelName);

/**
 * Registers the GPU kernels for `backendName` (idempotent) when that backend
 * is registered with tfjs; false for any other name or an unregistered
 * backend. `only` limits it to those kernel names (benchmarks compare one
 * kernel at a time).
 */
export function installGpuKernels(backendName: string, only?: readonly string[]): boolean {
  if (!isGpuBackend(backendName) || tf.findBackendFactory(backendName) == null) return false;
  registerFusedGradients();
  for (const [kernelName, body] of KERNELS[backendName]) {
    if (!selected(kernelName, only) || tf.getKernel(kernelName, backendName)) continue;
    tf.registerKernel({ kernelName, backendName, kernelFunc: body as unknown as tf.KernelFunc });
  }
  return true;
}

/** Removes the GPU kernels (or `only` those) for `backendName` (ops fall back to the composite tfjs ops); returns whether any were registered. */
export function uninstallGpuKernels(backendName: string, only?: readonly string[]): boolean {
  if (!isGpuBackend(backendName)) return false;
  let any = false;
  for (const [kernelName] of KERNELS[backendName]) {
    if (!selected(kernelName, only) || !tf.getKernel(kernelName, backendName)) continue;
    tf.unregisterKernel(kernelName, backendName);
    any = true;
  }
  return any;
}

export * from './errors.js';
export * from './config.js';
export * from './limits.js';
export * from './presets.js';
export * from './layout.js';
export * from './module.js';
export * from './rng.js';
export * from './backend.js';
export { installWasmKernels, installWasmSlice, installWasmSum, installWasmTranspose, uninstallWasmKernels, uninstallWasmSlice, uninstallWasmSum, uninstallWasmTranspose, wasmKernelsInstalled, WASM_FILES } from './backends/wasm/index.js';
export type { WasmAssets, WasmFileName } from './backends/wasm/index.js';
export {
  ADAMW_KERNEL,
  ATTENTION_KERNEL,
  ATTENTION_GRAD_KERNEL,
  CLIP_BY_GLOBAL_NORM_KERNEL,
  GELU_KERNEL,
  GELU_GRAD_KERNEL,
  LAYER_NORM_KERNEL,
  LAYER_NORM_GRAD_KERNEL,
  installFusedKernels,
  kernelRegistered,
  uninstallFusedKernels,
} from './backends/fused/index.js';
export type { AdamWKernelAttrs, AttentionKernelAttrs, ClipKernelAttrs } from './backends/fused/index.js';
export * from './io/npy.js';
export * from './nn/functional.js';
export * from './nn/attention.js';
export { Linear, type LinearOptions } from './nn/linear.js';
export { LayerNorm } from './nn/layer_norm.js';

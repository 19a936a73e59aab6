import { installWasmBatchMatMul, uninstallWasmBatchMatMul, wasmBatchMatMulInstalled } from './batch_matmul.js';
import { installWasmConcat, uninstallWasmConcat } from './concat.js';
import { installWasmIdentity, uninstallWasmIdentity } from './identity.js';
import { installWasmSlice, uninstallWasmSlice } from './slice.js';
import { installWasmSum, uninstallWasmSum } from './sum.js';
import { installWasmTranspose, uninstallWasmTranspose } from './transpose.js';
import { installWasmUnpack, uninstallWasmUnpack } from './unpack.js';

/**
 * vitkit's kernels for tfjs-backend-wasm, registered over the stock ones:
 * BatchMatMul (every product on a fast path: XNNPACK or a SIMD module),
 * Unpack, Slice, SplitV and Concat (block copies, no whole-input copies), Transpose and Sum over
 * leading axes (SIMD, in place on the backend's memory: heap_kernels.wat),
 * Identity (shares its input's data: tfjs clones every tensor a gradient
 * saves). Model code uses plain tfjs ops and gets them on wasm; other
 * backends are untouched.
 */

/** Registers vitkit's wasm kernels (idempotent); false, changing nothing, when tfjs-backend-wasm is not loaded or lacks wasm SIMD. */
export function installWasmKernels(): boolean {
  if (!installWasmBatchMatMul()) return false;
  installWasmUnpack();
  installWasmSlice();
  installWasmTranspose();
  installWasmSum();
  installWasmIdentity();
  installWasmConcat();
  return true;
}

/** Puts tfjs's stock wasm kernels back (for comparisons); returns whether any were replaced. */
export function uninstallWasmKernels(): boolean {
  const matMul = uninstallWasmBatchMatMul();
  const unpack = uninstallWasmUnpack();
  const slice = uninstallWasmSlice();
  const transpose = uninstallWasmTranspose();
  const sum = uninstallWasmSum();
  const identity = uninstallWasmIdentity();
  const concat = uninstallWasmConcat();
  return matMul || unpack || slice || transpose || sum || identity || concat;
}

/** True while vitkit's wasm kernels are installed. */
export function wasmKernelsInstalled(): boolean {
  return wasmBatchMatMulInstalled();
}

export { installWasmSlice, uninstallWasmSlice } from './slice.js';
export { installWasmSum, uninstallWasmSum } from './sum.js';
export { installWasmTranspose, uninstallWasmTranspose } from './transpose.js';
export { WASM_FILES, assetUrl, prepareWasmBackend, unrefWasmWorkers, wasmInitError, wasmReport, wasmThreadsInUse } from './threads.js';
export type { WasmAssets, WasmFileName, WasmSetupReport, WasmThreadOptions } from './threads.js';

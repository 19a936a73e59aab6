import { ADAMW_SHARED_WASM_BASE64, ADAMW_WASM_BASE64 } from './adamw_binary.js';
import { heapOffset, instantiateOnHeap, type WasmHeapBackend } from './heap_kernels.js';

/**
 * The SIMD AdamW module (adamw.wat) over tfjs-backend-wasm's memory, behind
 * the fused AdamW kernel on wasm: the JS loop's float32 arithmetic,
 * bit for bit, on the tensors where they lie.
 */
interface AdamWExports {
  adamw(p: number, g: number, m: number, v: number, pOut: number, mOut: number, vOut: number, n: number,
    decay: number, c1: number, b1: number, b2: number, c2: number, bc2Sqrt: number, eps: number, negStep: number): void;
}

type Tensor = { dataId: object };

/** Float32 scalars of one tensor's update (see fused/adamw.ts). */
export interface AdamWScalars {
  decay: number;
  c1: number;
  b1: number;
  b2: number;
  c2: number;
  bc2Sqrt: number;
  eps: number;
  negStep: number;
}

export type WasmAdamW = (t: { p: Tensor; g: Tensor; m: Tensor; v: Tensor; pOut: Tensor; mOut: Tensor; vOut: Tensor }, n: number, s: AdamWScalars) => void;

/** The module over `backend`'s memory, or undefined (no wasm SIMD, no exported memory). */
export function wasmAdamW(backend: WasmHeapBackend): WasmAdamW | undefined {
  return instantiateOnHeap(backend, ADAMW_WASM_BASE64, ADAMW_SHARED_WASM_BASE64, (m: AdamWExports): WasmAdamW => {
    const at = (t: Tensor): number => heapOffset(backend, t);
    return (t, n, s) => m.adamw(at(t.p), at(t.g), at(t.m), at(t.v), at(t.pOut), at(t.mOut), at(t.vOut), n, s.decay, s.c1, s.b1, s.b2, s.c2, s.bc2Sqrt, s.eps, s.negStep);
  });
}

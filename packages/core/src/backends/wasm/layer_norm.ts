import { heapOffset, instantiateOnHeap, type WasmHeapBackend } from './heap_kernels.js';
import { LAYER_NORM_SHARED_WASM_BASE64, LAYER_NORM_WASM_BASE64 } from './layer_norm_binary.js';

/**
 * The SIMD LayerNorm module (layer_norm.wat) over tfjs-backend-wasm's
 * memory, behind the fused LayerNorm kernels on wasm: the same double
 * arithmetic as their JS loops, ~5x faster, reading and writing the tensors
 * where they lie.
 */
interface LayerNormExports {
  layer_norm(x: number, g: number, b: number, y: number, mean: number, rstd: number, rows: number, dim: number, eps: number): void;
  layer_norm_grad(dy: number, x: number, g: number, mean: number, rstd: number, dx: number, dg: number, db: number, scratch: number, rows: number, dim: number): void;
}

type Tensor = { dataId: object };

export interface WasmLayerNorm {
  forward(t: { x: Tensor; gamma: Tensor; beta: Tensor; y: Tensor; mean: Tensor; rstd: Tensor }, rows: number, dim: number, eps: number): void;
  backward(t: { dy: Tensor; x: Tensor; gamma: Tensor; mean: Tensor; rstd: Tensor; dx: Tensor; dgamma: Tensor; dbeta: Tensor }, rows: number, dim: number): void;
}

/** The module over `backend`'s memory, or undefined (no wasm SIMD, no exported memory). */
export function wasmLayerNorm(backend: WasmHeapBackend): WasmLayerNorm | undefined {
  return instantiateOnHeap(backend, LAYER_NORM_WASM_BASE64, LAYER_NORM_SHARED_WASM_BASE64, (m: LayerNormExports) => wrapLayerNorm(m, backend));
}

function wrapLayerNorm(m: LayerNormExports, backend: WasmHeapBackend): WasmLayerNorm {
  const at = (t: Tensor): number => heapOffset(backend, t);
  return {
    forward: (t, rows, dim, eps) => m.layer_norm(at(t.x), at(t.gamma), at(t.beta), at(t.y), at(t.mean), at(t.rstd), rows, dim, eps),
    backward: (t, rows, dim) => {
      // Double-precision column sums for dgamma and dbeta: 16 bytes per column.
      const scratch = backend.makeOutput([dim * 4], 'float32');
      try {
        m.layer_norm_grad(at(t.dy), at(t.x), at(t.gamma), at(t.mean), at(t.rstd), at(t.dx), at(t.dgamma), at(t.dbeta), at(scratch), rows, dim);
      } finally {
        backend.disposeData(scratch.dataId);
      }
    },
  };
}

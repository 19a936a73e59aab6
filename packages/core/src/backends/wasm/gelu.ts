import { GELU_SHARED_WASM_BASE64, GELU_WASM_BASE64 } from './gelu_binary.js';
import { heapOffset, instantiateOnHeap, type WasmHeapBackend } from './heap_kernels.js';
import { decodeBase64, reserveMemory } from './simd_module.js';

/**
 * The SIMD GELU module (gelu.wat) behind vitkit's fused GELU kernels. On the
 * wasm backend it runs over tfjs's own memory, on tensors where they lie
 * (wasmGelu); for the cpu backend (and the module's tests) it has a memory of
 * its own: operands are copied in, one export runs, and the result is
 * copied out (geluModule).
 */
/** Which GELU: exact (erf), tanh approximation, or QuickGELU x sigmoid(1.702 x). */
export type GeluForm = 'exact' | 'tanh' | 'quick';

/** The module's $mode for each form. */
const MODE: Record<GeluForm, number> = { exact: 0, tanh: 1, quick: 2 };

export interface GeluModule {
  /** out = gelu(x), elementwise, in double rounded to float32. */
  gelu(x: Float32Array, out: Float32Array, form: GeluForm): void;
  /** dx = dy gelu'(x), elementwise. */
  geluGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, form: GeluForm): void;
  /** out = erf(x) (the approximation the two above use; for its accuracy test). */
  erf(x: Float32Array, out: Float32Array): void;
}

interface GeluExports {
  erf(x: number, y: number, n: number): void;
  gelu(x: number, y: number, n: number, mode: number): void;
  gelu_grad(x: number, dy: number, dx: number, n: number, mode: number): void;
}

/** Byte offsets of `count` arrays of n floats each in `memory` (16-byte aligned). */
function layout(memory: WebAssembly.Memory, n: number, count: number): number[] {
  const stride = Math.ceil(n / 4) * 16;
  reserveMemory(memory, stride * count);
  return Array.from({ length: count }, (_, i) => i * stride);
}

function wrap(exports: GeluExports, memory: WebAssembly.Memory): GeluModule {
  const floats = (ptr: number, n: number): Float32Array => new Float32Array(memory.buffer, ptr, n);
  /** Copies `inputs` in, runs `run` on their offsets and the output's, copies the output into `out`. */
  const call = (inputs: Float32Array[], out: Float32Array, run: (ptrs: number[]) => void): void => {
    const n = out.length;
    const ptrs = layout(memory, n, inputs.length + 1);
    inputs.forEach((input, i) => floats(ptrs[i]!, n).set(input.subarray(0, n)));
    run(ptrs);
    out.set(floats(ptrs[inputs.length]!, n));
  };
  return {
    gelu: (x, out, form) => call([x], out, ([px, py]) => exports.gelu(px!, py!, out.length, MODE[form])),
    geluGrad: (x, dy, dx, form) => call([x, dy], dx, ([px, pdy, pdx]) => exports.gelu_grad(px!, pdy!, pdx!, dx.length, MODE[form])),
    erf: (x, out) => call([x], out, ([px, py]) => exports.erf(px!, py!, out.length)),
  };
}

let instance: GeluModule | null | undefined;

/** The module over a memory of its own, instantiated once (synchronously: ~5 KB); undefined where this runtime lacks wasm SIMD. */
export function geluModule(): GeluModule | undefined {
  if (instance === undefined) {
    try {
      const memory = new WebAssembly.Memory({ initial: 1 });
      const exports = new WebAssembly.Instance(new WebAssembly.Module(decodeBase64(GELU_WASM_BASE64)), { env: { memory } }).exports as unknown as GeluExports;
      instance = wrap(exports, memory);
    } catch {
      instance = null;
    }
  }
  return instance ?? undefined;
}

type Tensor = { dataId: object };

/** GELU on tfjs-backend-wasm's memory: the same exports on tensors' heap offsets, nothing copied. */
export interface WasmGelu {
  gelu(x: Tensor, y: Tensor, n: number, form: GeluForm): void;
  geluGrad(x: Tensor, dy: Tensor, dx: Tensor, n: number, form: GeluForm): void;
}

/** The module over `backend`'s memory, or undefined (no wasm SIMD, no exported memory). */
export function wasmGelu(backend: WasmHeapBackend): WasmGelu | undefined {
  return instantiateOnHeap(backend, GELU_WASM_BASE64, GELU_SHARED_WASM_BASE64, (m: GeluExports): WasmGelu => {
    const at = (t: Tensor): number => heapOffset(backend, t);
    return {
      gelu: (x, y, n, form) => m.gelu(at(x), at(y), n, MODE[form]),
      geluGrad: (x, dy, dx, n, form) => m.gelu_grad(at(x), at(dy), at(dx), n, MODE[form]),
    };
  });
}

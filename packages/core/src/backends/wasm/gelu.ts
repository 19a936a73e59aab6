import { GELU_WASM_BASE64 } from './gelu_binary.js';
import { instantiateSimdModule, reserveMemory } from './simd_module.js';

/**
 * The SIMD GELU module (gelu.wat) behind vitkit's fused GELU kernels. It is
 * a module of its own, not part of tfjs-backend-wasm, so the kernels of every
 * CPU-side backend (wasm and cpu) use it: operands are copied into its
 * memory, one export runs, and the result is copied out (two or three
 * memcpy-speed copies against five tfjs launches with a scalar erf).
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
  memory: WebAssembly.Memory;
  erf(x: number, y: number, n: number): void;
  gelu(x: number, y: number, n: number, mode: number): void;
  gelu_grad(x: number, dy: number, dx: number, n: number, mode: number): void;
}

/** Byte offsets of `count` arrays of n floats each, each padded to a multiple of 4 (the module goes four at a time). */
function layout(exports: GeluExports, n: number, count: number): number[] {
  const stride = Math.ceil(n / 4) * 16;
  reserveMemory(exports.memory, stride * count);
  return Array.from({ length: count }, (_, i) => i * stride);
}

function wrap(exports: GeluExports): GeluModule {
  const floats = (ptr: number, n: number): Float32Array => new Float32Array(exports.memory.buffer, ptr, n);
  /** Copies `inputs` in, runs `run` on their offsets and the output's, copies the output into `out`. */
  const call = (inputs: Float32Array[], out: Float32Array, run: (ptrs: number[]) => void): void => {
    const n = out.length;
    const ptrs = layout(exports, n, inputs.length + 1);
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

/** The module, instantiated once (synchronously: ~1 KB); undefined where this runtime lacks wasm SIMD. */
export function geluModule(): GeluModule | undefined {
  if (instance === undefined) {
    const exports = instantiateSimdModule<GeluExports>(GELU_WASM_BASE64);
    instance = exports ? wrap(exports) : null;
  }
  return instance ?? undefined;
}

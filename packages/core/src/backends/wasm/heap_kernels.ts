import { HEAP_KERNELS_SHARED_WASM_BASE64, HEAP_KERNELS_WASM_BASE64 } from './heap_kernels_binary.js';
import { decodeBase64 } from './simd_module.js';

/**
 * The heap kernels module (heap_kernels.wat), instantiated over
 * tfjs-backend-wasm's own memory: its exports read and write tensors where
 * the backend keeps them, so no operand is copied (copies out of the threaded
 * build's shared memory cost a few ns per byte). Arguments are byte offsets
 * into that memory and element counts.
 */
export interface HeapKernels {
  /** dst[b][j][i][e] = src[b][i][j][e] over [batch, rows, cols, inner]. */
  transpose(src: number, dst: number, batch: number, rows: number, cols: number, inner: number): void;
  /** dst[j] = sum_i src[i * cols + j], accumulated in double. */
  colsum(src: number, dst: number, rows: number, cols: number): void;
  /** Copies `rows` runs of `rowBytes` bytes, `srcStride` / `dstStride` bytes apart. */
  copy_block(src: number, dst: number, rows: number, rowBytes: number, srcStride: number, dstStride: number): void;
}

/** The parts of tfjs-backend-wasm's BackendWasm the heap kernels touch. */
export interface WasmHeapBackend {
  wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): { dataId: object; shape: number[]; dtype: 'float32' };
  disposeData(dataId: object): boolean;
}

/** Modules instantiated over each backend memory (wrapped for their callers), by their (unshared) bytes. */
const instances = new WeakMap<WebAssembly.Memory, Map<string, unknown>>();

/** The backend's memory: the threaded build exports it as wasmMemory, the others as asm.memory. */
function backendMemory(backend: WasmHeapBackend): WebAssembly.Memory | undefined {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

/**
 * A module that imports `env.memory` (a .wat marked `variants: shared`),
 * instantiated once per backend memory with the variant that memory needs
 * and handed to `wrap` once (kernels call this on every launch: nothing is
 * built twice); undefined without wasm SIMD or an exported memory.
 */
export function instantiateOnHeap<E, W = E>(
  backend: WasmHeapBackend,
  plainBase64: string,
  sharedBase64: string,
  wrap: (exports: E) => W = (exports) => exports as unknown as W,
): W | undefined {
  const memory = backendMemory(backend);
  if (!memory) return undefined;
  let byModule = instances.get(memory);
  if (!byModule) instances.set(memory, (byModule = new Map()));
  if (!byModule.has(plainBase64)) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    try {
      const module = new WebAssembly.Module(decodeBase64(shared ? sharedBase64 : plainBase64));
      byModule.set(plainBase64, wrap(new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as E));
    } catch {
      byModule.set(plainBase64, null);
    }
  }
  return (byModule.get(plainBase64) as W | null) ?? undefined;
}

/** The heap kernels module over `backend`'s memory. */
export function heapKernels(backend: WasmHeapBackend): HeapKernels | undefined {
  return instantiateOnHeap<HeapKernels>(backend, HEAP_KERNELS_WASM_BASE64, HEAP_KERNELS_SHARED_WASM_BASE64);
}

/** Bytes per element of a numeric dtype on tfjs-backend-wasm (bool is one byte). */
export function elementBytes(dtype: string): number {
  return dtype === 'bool' ? 1 : 4;
}

/** Byte offset of a tensor's data in the backend's memory. */
export function heapOffset(backend: WasmHeapBackend, t: { dataId: object }): number {
  return backend.dataIdMap.get(t.dataId)!.memoryOffset;
}

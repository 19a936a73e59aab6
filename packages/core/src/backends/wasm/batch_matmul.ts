import * as tf from '@tensorflow/tfjs-core';
import { BATCH_MATMUL_WASM_BASE64 } from './batch_matmul_binary.js';
import { WasmKernelOverride } from './kernel_override.js';
import { instantiateSimdModule, reserveMemory } from './simd_module.js';

/**
 * BatchMatMul for tfjs-backend-wasm, with every shape on a fast path.
 *
 * The stock kernel sends only unbatched, untransposed products to XNNPACK
 * (multi-threaded); everything else runs a scalar loop on one thread about
 * 10x slower. This override sends:
 * - unbatched untransposed products to the stock kernel (XNNPACK);
 * - unbatched transposed products (tfjs's matMul gradients) to an explicit
 *   transpose (a cheap copy) and then the stock kernel, untransposed;
 * - batched products whose items are large (ViT-Ti/16 and larger attention:
 *   SLICED_MIN_WORK multiply-adds or more each) item by item to the stock
 *   kernel (XNNPACK, on the backend's threads), each item copied into a 2-D
 *   tensor first: ~30% faster ViT-Ti/16 inference at batch 1 than the SIMD
 *   module (one core);
 * - other batched products (small attention, e.g. Fashion-MNIST models) to a
 *   small SIMD module (batch_matmul.wat, ~6 GMAC/s on one core): operands are
 *   copied into its memory, multiplied, and the product copied back.
 * Non-float32 inputs and batch shapes that do not flatten (e.g. [2,1] with
 * [1,3]) go to the stock kernel. Measurements: docs/experiments/wasm-matmul.md.
 */

interface SimdExports {
  memory: WebAssembly.Memory;
  matmul(a: number, b: number, c: number, batch: number, batchA: number, batchB: number, m: number, k: number, n: number, sam: number, sak: number): void;
  transpose(src: number, dst: number, batch: number, rows: number, cols: number): void;
}

/** The parts of tfjs-backend-wasm's BackendWasm this kernel touches. */
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object): boolean;
}

interface BatchMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

let simd: SimdExports | undefined;

/** Instantiates the SIMD module, or undefined without wasm SIMD. */
function instantiate(): SimdExports | undefined {
  return instantiateSimdModule<SimdExports>(BATCH_MATMUL_WASM_BASE64);
}

function heapFloats(backend: WasmBackendLike, t: tf.TensorInfo, size: number): Float32Array {
  const offset = backend.dataIdMap.get(t.dataId)!.memoryOffset;
  return new Float32Array(backend.wasm.HEAPU8.buffer, offset, size);
}

/** Swaps the last two axes with the backend's Transpose kernel. */
function transposeLast(backend: WasmBackendLike, x: tf.TensorInfo): tf.TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
  const transpose = tf.getKernel(tf.Transpose, 'wasm')!;
  return transpose.kernelFunc({ inputs: { x }, backend: backend as unknown as tf.KernelBackend, attrs: { perm } }) as tf.TensorInfo;
}

/** One product (every batch dim 1): XNNPACK through the stock kernel, transposing operands explicitly first. */
function unbatched(
  args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap },
  backend: WasmBackendLike,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): tf.TensorInfo {
  const call = (inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) =>
    stockKernel().kernelFunc({ ...args, inputs, attrs } as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  if (!transposeA && !transposeB) return call(args.inputs, args.attrs ?? {});
  const a2 = transposeA ? transposeLast(backend, a) : a;
  const b2 = transposeB ? transposeLast(backend, b) : b;
  const out = call({ a: a2, b: b2 }, { ...args.attrs, transposeA: false, transposeB: false });
  if (a2 !== a) backend.disposeData(a2.dataId);
  if (b2 !== b) backend.disposeData(b2.dataId);
  return out;
}

/**
 * Multiply-adds per item (m * k * n) from which a batched product runs item by
 * item on XNNPACK. Each item costs a few copies and an XNNPACK operator setup;
 * measured in docs/experiments/wasm-matmul.md (ViT-Ti/16 attention, 197^2 * 64
 * = 2.5M per item, wins by ~30% end to end; Fashion-MNIST attention, 50^2 * 16
 * = 40K, is faster on the SIMD module).
 */
export const SLICED_MIN_WORK = 131_072;

/** Tuning read at each call; only benchmarks change it (to compare both paths in one process). */
export const wasmMatMulTuning = { slicedMinWork: SLICED_MIN_WORK };

/** Copies `size` floats from `src` at `from` into a new [rows, cols] tensor. */
function itemCopy(backend: WasmBackendLike, src: tf.TensorInfo, from: number, rows: number, cols: number): tf.TensorInfo {
  const item = backend.makeOutput([rows, cols], 'float32');
  const size = rows * cols;
  heapFloats(backend, item, size).set(heapFloats(backend, src, tf.util.sizeFromShape(src.shape)).subarray(from, from + size));
  return item;
}

/** A batched product item by item through the stock kernel (XNNPACK); operands already untransposed. */
function itemByItem(
  args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap },
  backend: WasmBackendLike,
  out: tf.TensorInfo,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  dims: { batch: number; batchA: number; batchB: number; m: number; k: number; n: number },
): void {
  const { batch, batchA, batchB, m, k, n } = dims;
  const attrs = { ...args.attrs, transposeA: false, transposeB: false };
  for (let i = 0; i < batch; i++) {
    const ai = itemCopy(backend, a, batchA === 1 ? 0 : i * m * k, m, k);
    const bi = itemCopy(backend, b, batchB === 1 ? 0 : i * k * n, k, n);
    const ci = stockKernel().kernelFunc({ ...args, inputs: { a: ai, b: bi }, attrs } as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    heapFloats(backend, out, batch * m * n).set(heapFloats(backend, ci, m * n), i * m * n);
    backend.disposeData(ai.dataId);
    backend.disposeData(bi.dataId);
    backend.disposeData(ci.dataId);
  }
}

function batchMatMul(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[] {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
  const backend = args.backend as WasmBackendLike;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || k !== kb) return stockKernel().kernelFunc(args as Parameters<tf.KernelFunc>[0]);
  if (batchA === 1 && batchB === 1) return unbatched(args, backend, a, b, transposeA, transposeB);
  const outBatchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = tf.util.sizeFromShape(outBatchShape);
  // Flattened batch indices line up only when each side is whole or a single item.
  if ((batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) return stockKernel().kernelFunc(args as Parameters<tf.KernelFunc>[0]);

  const out = backend.makeOutput([...outBatchShape, m, n], 'float32');
  const outSize = batch * m * n;
  if (outSize === 0) return out;
  if (m * k * n >= wasmMatMulTuning.slicedMinWork) {
    const a2 = transposeA ? transposeLast(backend, a) : a;
    const b2 = transposeB ? transposeLast(backend, b) : b;
    itemByItem(args, backend, out, a2, b2, { batch, batchA, batchB, m, k, n });
    if (a2 !== a) backend.disposeData(a2.dataId);
    if (b2 !== b) backend.disposeData(b2.dataId);
    return out;
  }
  const exports = simd!;
  const aSize = batchA * m * k;
  const bSize = batchB * k * n;
  const aPtr = 0;
  const bPtr = aPtr + aSize * 4;
  const bRowMajorPtr = bPtr + bSize * 4;
  const cPtr = bRowMajorPtr + (transposeB ? bSize * 4 : 0);
  reserveMemory(exports.memory, cPtr + outSize * 4);
  const local = new Float32Array(exports.memory.buffer);
  local.set(heapFloats(backend, a, aSize), aPtr / 4);
  local.set(heapFloats(backend, b, bSize), bPtr / 4);
  // The kernel wants B row-major [K, N]; a transposed B is [N, K].
  if (transposeB) exports.transpose(bPtr, bRowMajorPtr, batchB, n, k);
  exports.matmul(
    aPtr,
    transposeB ? bRowMajorPtr : bPtr,
    cPtr,
    batch,
    batchA === 1 ? 0 : m * k,
    batchB === 1 ? 0 : k * n,
    m,
    k,
    n,
    transposeA ? 1 : k,
    transposeA ? m : 1,
  );
  heapFloats(backend, out, outSize).set(new Float32Array(exports.memory.buffer, cPtr, outSize));
  return out;
}

const override = new WasmKernelOverride(tf.BatchMatMul, batchMatMul as tf.KernelFunc);

/** The stock kernel, for the cases passed back to it (set while the override is installed). */
function stockKernel(): tf.KernelConfig {
  return override.stock!;
}

/**
 * Replaces the wasm backend's BatchMatMul (idempotent). Returns false,
 * changing nothing, when tfjs-backend-wasm is not loaded or this runtime
 * lacks wasm SIMD.
 */
export function installWasmBatchMatMul(): boolean {
  if (!tf.getKernel(tf.BatchMatMul, 'wasm')) return false;
  simd ??= instantiate();
  return simd !== undefined && override.install();
}

/** Puts the stock BatchMatMul back (for comparisons); returns whether one was replaced. */
export function uninstallWasmBatchMatMul(): boolean {
  return override.uninstall();
}

/** True while vitkit's BatchMatMul is installed. */
export function wasmBatchMatMulInstalled(): boolean {
  return override.stock !== undefined;
}

import * as tf from '@tensorflow/tfjs-core';
import { elementBytes, heapKernels, heapOffset, type WasmHeapBackend } from './heap_kernels.js';
import { WasmKernelOverride } from './kernel_override.js';

/**
 * Slice and SplitV for tfjs-backend-wasm that read the input where it lies.
 *
 * The stock Slice first copies its WHOLE input out of the heap
 * (`backend.readSync`, a `HEAPU8.slice`, which on the threaded build's shared
 * memory runs at a few ns per byte), and SplitV is one such Slice per piece:
 * splitting attention's qkv [2176, 192] into three took ~28 ms, [197, 576]
 * ~12 ms (docs/experiments/training-speed.md). These copy only the sliced
 * runs, heap to heap, for any rank: a block of runs per call of the heap
 * kernels module's copy_block (memory.copy per run), or one JS copy per run
 * where that module cannot load. Strings go to the stock kernels.
 */

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** x[begin : begin + size] into a new tensor (begin and size already resolved). */
function sliceOf(backend: WasmBackendLike, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const total = tf.util.sizeFromShape(size);
  if (total === 0) return out;
  const shape = x.shape;
  const rank = shape.length;
  // Views after the allocation: growing the heap replaces its buffer.
  const views = (): [Float32Array | Int32Array | Uint8Array, Float32Array | Int32Array | Uint8Array] => [backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(out)];
  if (rank === 0) {
    const [xv, ov] = views();
    ov.set(xv.subarray(0, 1));
    return out;
  }
  const strides = [...tf.util.computeStrides(shape), 1];
  // The innermost axis r whose trailing axes are whole: each output run is size[r] * strides[r] contiguous elements.
  let r = rank - 1;
  while (r > 0 && begin[r] === 0 && size[r] === shape[r]) r--;
  const run = size[r]! * strides[r]!;
  const kernels = heapKernels(backend as unknown as WasmHeapBackend);
  if (kernels) {
    // Runs along axis r - 1 lie a constant stride apart: one copy_block per index of the axes before it.
    const bytes = elementBytes(x.dtype);
    const rows = r > 0 ? size[r - 1]! : 1;
    const rowStride = r > 0 ? strides[r - 1]! : 0;
    const blocks = total / (run * rows);
    const index = new Array<number>(Math.max(r - 1, 0)).fill(0);
    const xBase = heapOffset(backend as unknown as WasmHeapBackend, x);
    const outBase = heapOffset(backend as unknown as WasmHeapBackend, out);
    for (let o = 0; o < blocks; o++) {
      let xOffset = begin[r]! * strides[r]! + (r > 0 ? begin[r - 1]! * rowStride : 0);
      for (let a = 0; a < r - 1; a++) xOffset += (begin[a]! + index[a]!) * strides[a]!;
      kernels.copy_block(xBase + xOffset * bytes, outBase + o * rows * run * bytes, rows, run * bytes, rowStride * bytes, run * bytes);
      for (let a = r - 2; a >= 0; a--) {
        if (++index[a]! < size[a]!) break;
        index[a] = 0;
      }
    }
    return out;
  }
  const [xv, ov] = views();
  const outer = total / run;
  const index = new Array<number>(r).fill(0);
  for (let o = 0, outOffset = 0; o < outer; o++, outOffset += run) {
    let xOffset = begin[r]! * strides[r]!;
    for (let a = 0; a < r; a++) xOffset += (begin[a]! + index[a]!) * strides[a]!;
    ov.set(xv.subarray(xOffset, xOffset + run), outOffset);
    // Odometer over the outer axes.
    for (let a = r - 1; a >= 0; a--) {
      if (++index[a]! < size[a]!) break;
      index[a] = 0;
    }
  }
  return out;
}

function slice(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs['x']!;
  if (x.dtype === 'string') return sliceOverride.stock!.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, args.attrs!['begin'] as number[], args.attrs!['size'] as number[]);
  return sliceOf(args.backend as WasmBackendLike, x, begin!, size!);
}

function splitV(args: KernelArgs): tf.TensorInfo[] {
  const x = args.inputs['x']!;
  if (x.dtype === 'string') return splitVOverride.stock!.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo[];
  const axis = tf.util.parseAxisParam(args.attrs!['axis'] as number, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, args.attrs!['numOrSizeSplits'] as number | number[], axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[axis] = s;
    const piece = sliceOf(args.backend as WasmBackendLike, x, [...begin], size);
    begin[axis]! += s;
    return piece;
  });
}

const sliceOverride = new WasmKernelOverride(tf.Slice, slice as unknown as tf.KernelFunc);
const splitVOverride = new WasmKernelOverride(tf.SplitV, splitV as unknown as tf.KernelFunc);

/** Replaces the wasm backend's Slice and SplitV (idempotent); false when tfjs-backend-wasm is not loaded. */
export function installWasmSlice(): boolean {
  return sliceOverride.install() && splitVOverride.install();
}

/** Puts the stock Slice and SplitV back; returns whether any were replaced. */
export function uninstallWasmSlice(): boolean {
  const a = sliceOverride.uninstall();
  const b = splitVOverride.uninstall();
  return a || b;
}

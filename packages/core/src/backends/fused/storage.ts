import * as tf from '@tensorflow/tfjs-core';
import type { WasmHeapBackend } from '../wasm/heap_kernels.js';

/**
 * Float32 storage of one CPU-side backend (wasm or cpu), as the fused kernels
 * see it: kernels allocate their outputs first, then take views and loop over
 * them in JS. On wasm a view lies over the module's heap, which an allocation
 * may grow and move: take views only after the last allocation.
 */
export interface FloatStorage {
  /** A new float32 output of `shape` (contents undefined). */
  alloc(shape: number[]): tf.TensorInfo;
  /** The float32 values of `t`, without a copy. Never write to an input's view. */
  view(t: tf.TensorInfo): Float32Array;
  /** On wasm, the backend itself: kernels with a SIMD module (backends/wasm) run it on the backend's memory. */
  wasmHeap?: WasmHeapBackend;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
}

/** The backends fused kernels are registered for, and how each reaches its memory. */
export const FUSED_BACKENDS = ['wasm', 'cpu'] as const;
export type FusedBackendName = (typeof FUSED_BACKENDS)[number];

export function floatStorage(backendName: FusedBackendName, backend: unknown): FloatStorage {
  if (backendName === 'wasm') {
    const b = backend as WasmBackendLike;
    return {
      alloc: (shape) => b.makeOutput(shape, 'float32'),
      view: (t) => b.typedArrayFromHeap(t) as Float32Array,
      wasmHeap: backend as WasmHeapBackend,
    };
  }
  const b = backend as CpuBackendLike;
  return {
    alloc: (shape) => b.makeTensorInfo(shape, 'float32', new Float32Array(tf.util.sizeFromShape(shape))),
    view: (t) => {
      const values = b.data.get(t.dataId).values;
      // float32 tensors made from plain arrays may hold another typed array; reading a copy is then correct.
      return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    },
  };
}

/** The arguments tfjs passes a kernel function. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

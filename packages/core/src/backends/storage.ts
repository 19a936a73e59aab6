import * as tf from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's backend that storage access touches. */
interface WasmStorageBackendLike {
  refCount(dataId: object): number;
  wasm?: { HEAPU8: Uint8Array };
  dataIdMap?: { get(dataId: object): { memoryOffset: number | null } | undefined };
}

/**
 * A Float32Array over the storage of float32 tensor `t` itself (no copy) on
 * the wasm backend: a view of the module's heap, valid until the next
 * allocation. Undefined on other backends (the cpu backend may keep the very
 * array a tensor was made from, which writes would change; GPU backends keep
 * data off the CPU). With `exclusive`, also undefined when another tensor shares the
 * storage (a clone, a reshape, a variable assigned from a live tensor), so
 * writing through the view changes `t` alone.
 *
 * This is how fused in-place updates (AdamW over all parameters in one call)
 * skip tfjs's per-op dispatch and allocation. Callers must not allocate
 * tensors between taking a wasm view and using it: the heap may grow and move.
 */
export function float32Storage(t: tf.Tensor, exclusive: boolean): Float32Array | undefined {
  if (t.dtype !== 'float32' || t.isDisposed) return undefined;
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as WasmStorageBackendLike;
  // Every tensor object on a data id (a clone, a reshape's output, a variable) holds one backend reference.
  if (exclusive && backend.refCount(t.dataId) !== 1) return undefined;
  const offset = backend.dataIdMap?.get(t.dataId)?.memoryOffset;
  const heap = backend.wasm?.HEAPU8;
  if (offset == null || heap === undefined) return undefined;
  return new Float32Array(heap.buffer, offset, t.size);
}

/**
 * A new float32 tensor of `shape` with uninitialized storage on the wasm
 * backend (no kernel runs; fill it through float32Storage), or undefined on
 * other backends. The caller owns it.
 */
export function allocateFloat32(shape: readonly number[]): tf.Tensor | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as { makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo };
  const info = backend.makeOutput([...shape], 'float32');
  return tf.engine().makeTensorFromTensorInfo(info);
}

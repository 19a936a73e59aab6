import * as tf from '@tensorflow/tfjs-core';
import { WasmKernelOverride } from './kernel_override.js';

/**
 * Unpack (tf.unstack) for tfjs-backend-wasm that copies what each piece holds.
 *
 * The stock kernel slices each piece out, and every wasm Slice first copies
 * its WHOLE input out of the heap (`backend.readSync`): cutting a tensor into
 * n pieces copied n times its size. Along the first axis the pieces are
 * contiguous, so this kernel copies each one straight from heap to heap.
 * Other axes and strings go to the stock kernel.
 */

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function unpack(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const value = args.inputs['value']!;
  const rank = value.shape.length;
  const axis = (args.attrs?.['axis'] as number | undefined) ?? 0;
  if ((axis !== 0 && axis !== -rank) || value.dtype === 'string') return override.stock!.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo[];
  const backend = args.backend as WasmBackendLike;
  const [n, ...pieceShape] = value.shape as [number, ...number[]];
  const size = tf.util.sizeFromShape(pieceShape);
  const outputs: tf.TensorInfo[] = [];
  for (let i = 0; i < n; i++) {
    const out = backend.makeOutput(pieceShape, value.dtype);
    // Views are taken after the allocation: growing the heap replaces its buffer.
    backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(value).subarray(i * size, (i + 1) * size));
    outputs.push(out);
  }
  return outputs;
}

const override = new WasmKernelOverride(tf.Unpack, unpack as unknown as tf.KernelFunc);

/** Replaces the wasm backend's Unpack (idempotent); false when tfjs-backend-wasm is not loaded. */
export function installWasmUnpack(): boolean {
  return override.install();
}

/** Puts the stock Unpack back; returns whether one was replaced. */
export function uninstallWasmUnpack(): boolean {
  return override.uninstall();
}

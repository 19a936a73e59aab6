import * as tf from '@tensorflow/tfjs-core';
import { elementBytes, heapKernels, heapOffset, type WasmHeapBackend } from './heap_kernels.js';
import { WasmKernelOverride } from './kernel_override.js';

/**
 * Concat for tfjs-backend-wasm with one block copy per input (the heap
 * kernels module's copy_block) instead of the stock kernel's JS copy per
 * input per outer index: concatenating attention's q, k and v gradients,
 * [2048, 96] x 3, took ~0.5 ms in 6,144 copies. Strings, a single non-empty
 * input and runtimes where the module cannot load go to the stock kernel.
 */

function concat(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const inputs = args.inputs as unknown as tf.TensorInfo[];
  const backend = args.backend as WasmHeapBackend;
  const nonEmpty = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  const kernels = heapKernels(backend);
  if (!kernels || nonEmpty.length < 2 || inputs[0]!.dtype === 'string') return override.stock!.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  const axis = tf.util.parseAxisParam(args.attrs!['axis'] as number, inputs[0]!.shape)[0]!;
  tf.backend_util.assertParamsConsistent(inputs.map((t) => t.shape), axis);
  const outShape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
  const out = backend.makeOutput(outShape, inputs[0]!.dtype as 'float32');
  const bytes = elementBytes(inputs[0]!.dtype);
  const outer = tf.util.sizeFromShape(outShape.slice(0, axis));
  const outRow = tf.util.sizeFromShape(outShape.slice(axis)) * bytes;
  let column = heapOffset(backend, out);
  for (const t of nonEmpty) {
    const row = tf.util.sizeFromShape(t.shape.slice(axis)) * bytes;
    kernels.copy_block(heapOffset(backend, t), column, outer, row, row, outRow);
    column += row;
  }
  return out;
}

const override = new WasmKernelOverride(tf.Concat, concat as unknown as tf.KernelFunc);

/** Replaces the wasm backend's Concat (idempotent); false when tfjs-backend-wasm is not loaded. */
export function installWasmConcat(): boolean {
  return override.install();
}

/** Puts the stock Concat back; returns whether it was replaced. */
export function uninstallWasmConcat(): boolean {
  return override.uninstall();
}

import * as tf from '@tensorflow/tfjs-core';
import { heapKernels, heapOffset, type WasmHeapBackend } from './heap_kernels.js';
import { WasmKernelOverride } from './kernel_override.js';

/**
 * Sum for tfjs-backend-wasm when the reduced axes lead (size-1 axes aside):
 * column sums in place on the backend's memory, accumulated in double. This
 * is every bias and LayerNorm-free gradient of a dense layer (dy [B, T, N]
 * summed to [N]); the stock kernel first transposes the input so the reduced
 * axes trail (a full scalar copy: ~8 ms for [2048, 288]). Other reductions
 * and non-float32 inputs go to the stock kernel.
 */

/** [rows, cols] when `axes` (normalized) come before every other axis of `shape` of size > 1, else undefined. */
export function leadingReduction(shape: readonly number[], axes: readonly number[]): [number, number] | undefined {
  const reduced = new Set(axes);
  let rows = 1;
  let cols = 1;
  let seenKept = false;
  for (let a = 0; a < shape.length; a++) {
    const d = shape[a]!;
    if (reduced.has(a)) {
      if (seenKept && d !== 1) return undefined;
      rows *= d;
    } else {
      if (d !== 1) seenKept = true;
      cols *= d;
    }
  }
  return [rows, cols];
}

function sum(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const x = args.inputs['x']!;
  const backend = args.backend as WasmHeapBackend;
  const axes = tf.util.parseAxisParam(args.attrs!['axis'] as number | number[], x.shape);
  const kernels = x.dtype === 'float32' ? heapKernels(backend) : undefined;
  const split = kernels ? leadingReduction(x.shape, axes) : undefined;
  if (!kernels || !split || split[0] * split[1] === 0) return override.stock!.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  const keepDims = args.attrs!['keepDims'] === true;
  const outShape = keepDims ? x.shape.map((d, a) => (axes.includes(a) ? 1 : d)) : x.shape.filter((_, a) => !axes.includes(a));
  const out = backend.makeOutput(outShape, 'float32');
  kernels.colsum(heapOffset(backend, x), heapOffset(backend, out), split[0], split[1]);
  return out;
}

const override = new WasmKernelOverride(tf.Sum, sum as tf.KernelFunc);

/** Replaces the wasm backend's Sum (idempotent); false when tfjs-backend-wasm is not loaded. */
export function installWasmSum(): boolean {
  return override.install();
}

/** Puts the stock Sum back; returns whether it was replaced. */
export function uninstallWasmSum(): boolean {
  return override.uninstall();
}

import * as tf from '@tensorflow/tfjs-core';
import { geluModule, wasmGelu, type GeluForm } from '../wasm/gelu.js';
import type { FloatStorage, KernelArgs } from './storage.js';

/**
 * GELU forward and backward as one launch each (tfjs runs exact GELU as Mul,
 * Erf, Add, Mul, Mul forward and about ten kernels backward). Attr `form`:
 * 'exact' (x Phi(x) = 0.5 x (1 + erf(x / sqrt 2))), 'tanh' (the tanh
 * approximation) or 'quick' (x sigmoid(1.702 x)). The arithmetic is the SIMD
 * module of backends/wasm/gelu.wat (double precision, erf within 1e-7 of the
 * exact one): on wasm in place on the backend's memory, on cpu through copies.
 *
 * Forward: input `x`, output y (x's shape). Backward: inputs `dy`, `x`;
 * output dx = dy gelu'(x).
 */
export const GELU_KERNEL = 'VitkitGelu';
export const GELU_GRAD_KERNEL = 'VitkitGeluGrad';

/** Whether the GELU kernels can run here (they need wasm SIMD). */
export function geluKernelsAvailable(): boolean {
  return geluModule() !== undefined;
}

export function geluKernel(args: KernelArgs, storage: FloatStorage): tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const y = storage.alloc(x.shape);
  const heap = storage.wasmHeap && wasmGelu(storage.wasmHeap);
  if (heap) {
    heap.gelu(x, y, tf.util.sizeFromShape(x.shape), args.attrs!['form'] as GeluForm);
    return [y];
  }
  geluModule()!.gelu(storage.view(x), storage.view(y), args.attrs!['form'] as GeluForm);
  return [y];
}

export function geluGradKernel(args: KernelArgs, storage: FloatStorage): tf.TensorInfo[] {
  const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const dx = storage.alloc(x.shape);
  const heap = storage.wasmHeap && wasmGelu(storage.wasmHeap);
  if (heap) {
    heap.geluGrad(x, dy, dx, tf.util.sizeFromShape(x.shape), args.attrs!['form'] as GeluForm);
    return [dx];
  }
  geluModule()!.geluGrad(storage.view(x), storage.view(dy), storage.view(dx), args.attrs!['form'] as GeluForm);
  return [dx];
}

/** The forward kernel's gradient: one backward launch. */
export const geluGradConfig: tf.GradConfig = {
  kernelName: GELU_KERNEL,
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x] = saved as [tf.Tensor];
    const dyY = Array.isArray(dy) ? dy[0]! : dy;
    return { x: () => (tf.engine().runKernel(GELU_GRAD_KERNEL, { dy: dyY, x }, { form: attrs['form']! }) as tf.Tensor[])[0]! };
  },
};

export type { GeluForm };

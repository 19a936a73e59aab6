import * as tf from '@tensorflow/tfjs-core';
import { WasmKernelOverride } from './kernel_override.js';

/**
 * Identity for tfjs-backend-wasm that shares its input's data (one more
 * reference, as Reshape and the cpu backend's Identity do) instead of
 * copying it. tfjs clones every tensor a gradient saves for the backward
 * pass (an Identity launch each: ~380 per training step of a 6-block model,
 * ~16 ms of copies); tensor data is never written in place, so the clone
 * needs no copy. Strings go to the stock kernel.
 */

interface RefCountingBackend {
  incRef(dataId: object): void;
}

function identity(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const x = args.inputs['x']!;
  if (x.dtype === 'string') return override.stock!.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  (args.backend as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

const override = new WasmKernelOverride(tf.Identity, identity as tf.KernelFunc);

/** Replaces the wasm backend's Identity (idempotent); false when tfjs-backend-wasm is not loaded. */
export function installWasmIdentity(): boolean {
  return override.install();
}

/** Puts the stock Identity back; returns whether it was replaced. */
export function uninstallWasmIdentity(): boolean {
  return override.uninstall();
}

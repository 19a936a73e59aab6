import * as tf from '@tensorflow/tfjs-core';

/**
 * One of vitkit's kernels registered over the wasm backend's stock one, with
 * the stock kernel's setup and dispose functions kept (the override passes
 * some cases back to it, as `stock`).
 */
export class WasmKernelOverride {
  /** The stock kernel while the override is installed. */
  stock: tf.KernelConfig | undefined;

  constructor(
    private readonly name: string,
    private readonly kernelFunc: tf.KernelFunc,
  ) {}

  /** Registers the override (idempotent); false, changing nothing, when tfjs-backend-wasm has not registered the kernel. */
  install(): boolean {
    if (this.stock) return true;
    const stock = tf.getKernel(this.name, 'wasm');
    if (!stock) return false;
    tf.unregisterKernel(this.name, 'wasm');
    tf.registerKernel({ ...stock, kernelFunc: this.kernelFunc });
    this.stock = stock;
    return true;
  }

  /** Puts the stock kernel back; returns whether the override was installed. */
  uninstall(): boolean {
    if (!this.stock) return false;
    tf.unregisterKernel(this.name, 'wasm');
    tf.registerKernel(this.stock);
    this.stock = undefined;
    return true;
  }
}

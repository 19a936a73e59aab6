import * as tf from '@tensorflow/tfjs-core';

/**
 * `tf.unstack(x, 0)` that costs what the pieces hold.
 *
 * On the wasm backend (tfjs 4.22) every Slice, and so every Unpack and
 * SplitV output, first copies its WHOLE input out of the wasm heap
 * (`backend.readSync`). Cutting a tensor into n pieces therefore copies n
 * times its size: for ViT-B/16's per-head attention (36 pieces of a 1.8 MB
 * tensor per block) that was ~0.45 ms per piece, 15% of a forward pass.
 * This kernel copies each piece straight from heap to heap. On other
 * backends tf.unstack is already cheap (the cpu backend's slices read its
 * arrays in place) and is used as it is.
 */
const KERNEL = 'VitkitUnstackRows';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function unstackOnWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo[] {
  const x = args.inputs['x']!;
  const backend = args.backend as WasmBackendLike;
  const [n, ...pieceShape] = x.shape as [number, ...number[]];
  const size = pieceShape.reduce((a, b) => a * b, 1);
  const outputs: tf.TensorInfo[] = [];
  for (let i = 0; i < n; i++) {
    const out = backend.makeOutput(pieceShape, x.dtype);
    // Views are taken after the allocation: growing the heap replaces its buffer.
    const source = backend.typedArrayFromHeap(x);
    backend.typedArrayFromHeap(out).set(source.subarray(i * size, (i + 1) * size));
    outputs.push(out);
  }
  return outputs;
}

let registered = false;

function ensureRegistered(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel(KERNEL, 'wasm')) tf.registerKernel({ kernelName: KERNEL, backendName: 'wasm', kernelFunc: unstackOnWasm as unknown as tf.KernelFunc });
  // The pieces' gradients (zeros for pieces that got none) stacked back in order.
  if (!tf.getGradient(KERNEL)) {
    tf.registerGradient({ kernelName: KERNEL, gradFunc: (dy) => ({ x: () => tf.stack(dy as tf.Tensor[]) }) });
  }
}

/** Splits x along its first axis into x.shape[0] tensors of shape x.shape.slice(1), like tf.unstack(x, 0). */
export function unstackRows(x: tf.Tensor): tf.Tensor[] {
  if (tf.getBackend() !== 'wasm' || x.rank < 1 || x.dtype === 'string' || x.shape[0] === 0) return tf.unstack(x, 0);
  ensureRegistered();
  if (x.shape[0] === 1) return [tf.reshape(x, x.shape.slice(1))];
  return tf.engine().runKernel(KERNEL, { x } as unknown as tf.NamedTensorMap, {}) as unknown as tf.Tensor[];
}

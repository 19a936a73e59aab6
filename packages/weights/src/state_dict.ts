import * as tf from '@tensorflow/tfjs-core';
import type { StateDict } from '@vitkit/core';
import type { RawTensor, RawTensors } from './raw_tensor.js';

/** Typed arrays -> tfjs tensors (float32, or int32 for integer data). The caller owns the tensors. */
export function toStateDict(tensors: ReadonlyMap<string, RawTensor>): StateDict {
  const out: StateDict = new Map();
  for (const [name, t] of tensors) {
    if (t.data instanceof Float32Array) out.set(name, tf.tensor(t.data, t.shape, 'float32'));
    else out.set(name, tf.tensor(t.data instanceof Int32Array ? t.data : Int32Array.from(t.data), t.shape, 'int32'));
  }
  return out;
}

/** tfjs tensors -> typed arrays (downloads from the backend; does not dispose the tensors). */
export async function fromStateDict(state: ReadonlyMap<string, tf.Tensor>): Promise<RawTensors> {
  const out: RawTensors = new Map();
  for (const [name, t] of state) {
    const data = await t.data();
    out.set(name, {
      shape: [...t.shape],
      data: data instanceof Float32Array || data instanceof Int32Array || data instanceof Uint8Array ? data : Float32Array.from(data as ArrayLike<number>),
    });
  }
  return out;
}

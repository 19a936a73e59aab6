// A minimal safetensors reader for tests: F32 tensors only. The format is an
// 8-byte little-endian header length, a JSON header
// { name: { dtype, shape, data_offsets: [begin, end] } }, then the raw data.
import * as tf from '@tensorflow/tfjs-core';

export function readSafetensors(bytes: Uint8Array): Map<string, tf.Tensor> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const dataStart = 8 + headerLen;
  const out = new Map<string, tf.Tensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (entry.dtype !== 'F32') throw new Error(`${name}: only F32 is supported, got ${entry.dtype}`);
    const [begin, end] = entry.data_offsets;
    const raw = bytes.slice(dataStart + begin, dataStart + end); // copy: aligned for Float32Array
    const values = new Float32Array(raw.buffer, raw.byteOffset, (end - begin) / 4);
    out.set(name, tf.tensor(values, entry.shape, 'float32'));
  }
  return out;
}

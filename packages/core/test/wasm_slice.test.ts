import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, setupBackend, wasmKernelsInstalled } from '../src/index.js';

/** [shape, begin, size] for tf.slice: every rank 1-6, runs that merge trailing axes, -1 sizes, empty slices. */
const SLICES: [number[], number[], number[]][] = [
  [[10], [3], [5]],
  [[6, 9], [1, 2], [4, 5]],
  [[6, 9], [2, 0], [3, 9]], // contiguous rows
  [[2176, 192], [0, 64], [2176, 64]], // attention's qkv split, as a slice
  [[4, 5, 6], [1, 0, 2], [2, 5, 3]],
  [[4, 5, 6], [1, 2, 0], [3, -1, -1]],
  [[3, 4, 5, 6], [1, 1, 1, 1], [2, 2, 3, 4]],
  [[2, 3, 4, 5, 6], [1, 0, 2, 1, 0], [1, 3, 2, 3, 6]], // rank 5: the stock kernel's slowest path
  [[2, 3, 2, 3, 2, 4], [0, 1, 0, 1, 1, 1], [2, 2, 2, 2, 1, 2]],
  [[4, 5], [2, 1], [0, 3]],
];

/** [shapes, axis] for tf.concat: attention's qkv gradient, leading and inner axes, empty and single pieces. */
const CONCATS: [number[][], number][] = [
  [[[2048, 96], [2048, 96], [2048, 96]], 1],
  [[[3, 4], [2, 4]], 0],
  [[[2, 3, 4], [2, 5, 4], [2, 1, 4]], 1],
  [[[2, 3, 4, 2], [2, 3, 4, 3]], -1],
  [[[5], [0], [2]], 0],
  [[[2, 3], [2, 0]], 1],
];

/** [shape, numOrSizeSplits, axis] for tf.split. */
const SPLITS: [number[], number | number[], number][] = [
  [[197, 576], 3, 1],
  [[2, 17, 3, 4, 16], 3, 2],
  [[6, 10], [2, 3, 5], 1],
  [[6, 10], [1, -1, 2], 0],
  [[4, 6, 8], 2, -1],
];

function values(shape: number[], rng: Rng): Float32Array {
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1));
}

/** Slices and splits of the same values on the active backend, plus an int32 and a bool slice. */
function run(): number[][] {
  const rng = new Rng(3);
  const out: number[][] = [];
  for (const [shape, begin, size] of SLICES) {
    const x = tf.tensor(values(shape, rng), shape);
    const y = tf.slice(x, begin, size);
    out.push([...y.shape, ...y.dataSync()]);
    tf.dispose([x, y]);
  }
  for (const [shape, splits, axis] of SPLITS) {
    const x = tf.tensor(values(shape, rng), shape);
    const pieces = tf.split(x, splits, axis);
    for (const p of pieces) out.push([...p.shape, ...p.dataSync()]);
    tf.dispose([x, ...pieces]);
  }
  for (const [shapes, axis] of CONCATS) {
    const pieces = shapes.map((shape) => tf.tensor(values(shape, rng), shape));
    const joined = tf.concat(pieces, axis);
    out.push([...joined.shape, ...joined.dataSync()]);
    tf.dispose([...pieces, joined]);
  }
  const ints = tf.tensor([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32');
  const bools = tf.tensor([[true, false, true], [false, true, true]], [2, 3], 'bool');
  for (const t of [ints, bools]) {
    const s = tf.slice(t, [0, 1], [2, 2]);
    expect(s.dtype).toBe(t.dtype);
    out.push([...s.dataSync()]);
    const c = tf.concat([t, s], 1);
    expect(c.dtype).toBe(t.dtype);
    out.push([...c.dataSync()]);
    tf.dispose([s, c]);
  }
  tf.dispose([ints, bools]);
  return out;
}

describe("vitkit's Slice, SplitV and Concat for the wasm backend", () => {
  beforeAll(async () => {
    await setupBackend('wasm');
  });

  it('is installed by setupBackend("wasm") and removed with wasmKernels: false', async () => {
    expect(wasmKernelsInstalled()).toBe(true);
    const ours = ['Slice', 'SplitV', 'Concat'].map((k) => tf.getKernel(k, 'wasm')!.kernelFunc);
    await setupBackend('wasm', { wasmKernels: false });
    ['Slice', 'SplitV', 'Concat'].forEach((k, i) => expect(tf.getKernel(k, 'wasm')!.kernelFunc).not.toBe(ours[i]));
    await setupBackend('wasm');
    ['Slice', 'SplitV', 'Concat'].forEach((k, i) => expect(tf.getKernel(k, 'wasm')!.kernelFunc).toBe(ours[i]));
  });

  it('gives exactly the cpu backend\'s slices, splits and concatenations (every rank, int32 and bool too), leaking no tensor', async () => {
    await setupBackend('cpu');
    const expected = run();
    await setupBackend('wasm');
    const before = tf.memory().numTensors;
    const got = run();
    expect(tf.memory().numTensors).toBe(before);
    expect(got).toEqual(expected);
  });

  it('matches the stock kernels on wasm', async () => {
    await setupBackend('wasm', { wasmKernels: false });
    const stock = run();
    await setupBackend('wasm');
    expect(run()).toEqual(stock);
  });
});

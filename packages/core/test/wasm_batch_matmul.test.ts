import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BATCH_MATMUL_WASM_BASE64 } from '../src/backends/wasm/batch_matmul_binary.js';
import { Rng, setupBackend, wasmKernelsInstalled } from '../src/index.js';
// @ts-expect-error -- a plain .mjs build script without type declarations
import { compileWat } from '../scripts/compile_wat.mjs';

/** [shape of a, shape of b, transposeA, transposeB]: batched, broadcast, transposed, odd widths (16 + 4 + 1 columns). */
const CASES: [number[], number[], boolean, boolean][] = [
  [[6, 17, 24], [6, 24, 17], false, false],
  [[6, 17, 24], [6, 17, 24], false, true],
  [[6, 24, 17], [6, 24, 21], true, false],
  [[6, 24, 17], [6, 21, 24], true, true],
  [[2, 3, 50, 24], [2, 3, 24, 50], false, false],
  [[1, 5, 7], [4, 7, 3], false, false],
  [[4, 5, 7], [7, 3], false, false],
  [[4, 7, 5], [3, 7], true, true],
  [[33, 20], [33, 9], true, false],
  [[33, 20], [9, 20], false, true],
  [[2, 1, 3, 4], [1, 3, 4, 5], false, false], // batch shapes that do not flatten: the stock kernel's case
  [[37, 29], [29, 23], false, false], // plain 2-D: XNNPACK through the stock kernel
  [[1, 37, 29], [1, 23, 29], false, true], // batch-1 transposed: explicit transpose, then XNNPACK
  [[1, 29, 37], [1, 29, 23], true, false],
  [[29, 37], [23, 29], true, true],
  [[3, 4, 0], [3, 0, 5], false, false],
  // Items of SLICED_MIN_WORK multiply-adds or more (70 * 40 * 50): item by item on XNNPACK.
  [[3, 70, 40], [3, 40, 50], false, false],
  [[3, 40, 70], [3, 50, 40], true, true],
  [[2, 70, 40], [2, 50, 40], false, true],
  [[1, 70, 40], [3, 40, 50], false, false],
  [[3, 70, 40], [40, 50], false, false],
];

function values(shape: number[], rng: Rng): Float32Array {
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1));
}

/**
 * Product and input gradients of sum(matMul(a, b) * w), on the active
 * backend. Gradients only for equal batch shapes: tfjs-core's BatchMatMul
 * gradient does not reduce broadcast batch dimensions.
 */
function productAndGrads(a: Float32Array, b: Float32Array, w: Float32Array, c: (typeof CASES)[number]) {
  return tf.tidy(() => {
    const [sa, sb, ta, tb] = c;
    const at = tf.tensor(a, sa);
    const bt = tf.tensor(b, sb);
    const product = tf.matMul(at, bt, ta, tb);
    const sameBatch = sa.length === sb.length && sa.slice(0, -2).every((d, i) => d === sb[i]);
    const none = new Float32Array(0);
    if (!sameBatch) return { product: floats(product), shape: product.shape, da: none, db: none };
    const wt = tf.tensor(w, product.shape);
    const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), wt)))([at, bt]);
    return { product: floats(product), shape: product.shape, da: floats(grads[0]!), db: floats(grads[1]!) };
  });
}

function floats(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync());
}

function maxDiff(x: Float32Array, y: Float32Array): number {
  expect(x.length).toBe(y.length);
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  return d;
}

describe("vitkit's BatchMatMul for the wasm backend", () => {
  beforeAll(async () => {
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    await setupBackend('wasm');
  });

  it('is installed by setupBackend("wasm") (with Unpack) and removed with wasmKernels: false', async () => {
    expect(wasmKernelsInstalled()).toBe(true);
    const ours = ['BatchMatMul', 'Unpack'].map((k) => tf.getKernel(k, 'wasm')!.kernelFunc);
    await setupBackend('wasm', { wasmKernels: false });
    expect(wasmKernelsInstalled()).toBe(false);
    ['BatchMatMul', 'Unpack'].forEach((k, i) => expect(tf.getKernel(k, 'wasm')!.kernelFunc).not.toBe(ours[i]));
    await setupBackend('wasm');
    expect(wasmKernelsInstalled()).toBe(true);
    ['BatchMatMul', 'Unpack'].forEach((k, i) => expect(tf.getKernel(k, 'wasm')!.kernelFunc).toBe(ours[i]));
  });

  it.each(CASES)('matches the cpu backend for a %j x b %j (transposeA %s, transposeB %s), products and gradients', async (...c) => {
    const rng = new Rng(7);
    const a = values(c[0], rng);
    const b = values(c[1], rng);
    await setupBackend('cpu');
    const outShape = tf.tidy(() => tf.matMul(tf.tensor(a, c[0]), tf.tensor(b, c[1]), c[2], c[3]).shape);
    const w = values(outShape, rng);
    const expected = productAndGrads(a, b, w, c);
    await setupBackend('wasm');
    expect(wasmKernelsInstalled()).toBe(true);
    const before = tf.memory().numTensors;
    const got = productAndGrads(a, b, w, c);
    expect(tf.memory().numTensors).toBe(before);
    expect(got.shape).toEqual(expected.shape);
    expect(maxDiff(got.product, expected.product)).toBeLessThan(1e-5);
    expect(maxDiff(got.da, expected.da)).toBeLessThan(1e-5);
    expect(maxDiff(got.db, expected.db)).toBeLessThan(1e-5);
  });

  it('the committed module bytes are batch_matmul.wat compiled (run build:wasm after editing it)', async () => {
    const wat = readFileSync(new URL('../src/backends/wasm/batch_matmul.wat', import.meta.url), 'utf8');
    const bytes = (await compileWat('batch_matmul.wat', wat)) as Uint8Array;
    expect(Buffer.from(bytes).toString('base64')).toBe(BATCH_MATMUL_WASM_BASE64);
  });
});

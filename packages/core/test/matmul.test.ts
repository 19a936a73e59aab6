import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, linear, setupBackend } from '../src/index.js';

function random(shape: number[], rng: Rng): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.uniform(-1, 1)), shape);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe.each(['cpu', 'wasm'] as const)('linear and tf.unstack on %s', (backend) => {
  beforeAll(async () => {
    // tfjs-core's gradient definitions (vite resolves the module's extensionless imports).
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    await setupBackend(backend);
  });

  it('computes a b + bias like tf.matMul + tf.add, with and without bias', () => {
    const rng = new Rng(1);
    const [a, b, bias] = [random([37, 29], rng), random([29, 23], rng), random([23], rng)] as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const before = tf.memory().numTensors;
    const fused = linear(a, b, bias);
    const plain = linear(a, b);
    expect(tf.memory().numTensors).toBe(before + 2);
    const ref = tf.add(tf.matMul(a, b), bias);
    const refPlain = tf.matMul(a, b);
    expect(maxAbsDiff(fused, ref)).toBeLessThan(1e-5);
    expect(maxAbsDiff(plain, refPlain)).toBeLessThan(1e-5);
    tf.dispose([a, b, bias, fused, plain, ref, refPlain]);
  });

  it('has the same gradients as tfjs`s own matMul and add (to 1e-6)', () => {
    const rng = new Rng(2);
    const [a, b, bias, r] = [random([19, 11], rng), random([11, 7], rng), random([7], rng), random([19, 7], rng)] as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];
    // A weighted sum makes every output element's gradient different.
    const ours = tf.grads((x: tf.Tensor, w: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(linear(x, w as tf.Tensor2D, c as tf.Tensor1D), r)));
    const stock = tf.grads((x: tf.Tensor, w: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.matMul(x, w), c), r)));
    const g1 = ours([a, b, bias]);
    const g2 = stock([a, b, bias]);
    for (let i = 0; i < 3; i++) expect(maxAbsDiff(g1[i]!, g2[i]!), `gradient ${i}`).toBeLessThan(1e-6);
    // dbias is the column sums of r, whatever the product.
    const colSums = tf.sum(r, 0);
    expect(maxAbsDiff(g1[2]!, colSums)).toBeLessThan(1e-6);
    const noBias = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(linear(x, w as tf.Tensor2D), r)))([a, b]);
    expect(maxAbsDiff(noBias[0]!, g2[0]!)).toBeLessThan(1e-6);
    expect(maxAbsDiff(noBias[1]!, g2[1]!)).toBeLessThan(1e-6);
    tf.dispose([a, b, bias, r, colSums, ...g1, ...g2, ...noBias]);
  });

  it('gives linear the same gradients with respect to variables as the stock ops', () => {
    const rng = new Rng(3);
    const x = random([2, 5, 6], rng);
    const w = tf.variable(random([6, 4], rng));
    const b = tf.variable(random([4], rng));
    const r = random([2, 5, 4], rng);
    const ours = tf.variableGrads(() => tf.sum(tf.mul(linear(x, w as tf.Tensor2D, b as tf.Tensor1D), r)) as tf.Scalar, [w, b]);
    const stock = tf.variableGrads(() => tf.sum(tf.mul(tf.add(tf.matMul(tf.reshape(x, [10, 6]), w), b), tf.reshape(r, [10, 4]))) as tf.Scalar, [w, b]);
    expect(maxAbsDiff(ours.grads[w.name]!, stock.grads[w.name]!)).toBeLessThan(1e-6);
    expect(maxAbsDiff(ours.grads[b.name]!, stock.grads[b.name]!)).toBeLessThan(1e-6);
    tf.dispose([x, w, b, r, ours.value, stock.value, ...Object.values(ours.grads), ...Object.values(stock.grads)]);
  });

  it("tf.unstack (on wasm: vitkit's Unpack) equals slices, with the same gradient, and leaves only its pieces", () => {
    const rng = new Rng(4);
    const x = random([5, 3, 4], rng);
    const before = tf.memory().numTensors;
    const pieces = tf.unstack(x);
    expect(tf.memory().numTensors).toBe(before + 5);
    const ref = Array.from({ length: 5 }, (_, i) => tf.reshape(tf.slice(x, [i, 0, 0], [1, 3, 4]), [3, 4]));
    pieces.forEach((p, i) => expect(maxAbsDiff(p, ref[i]!)).toBe(0));
    const r = random([3, 4], rng);
    // Pieces 0 and 3 feed the loss; the others get zero gradient.
    const loss = (t: tf.Tensor, split: (t: tf.Tensor) => tf.Tensor[]) => {
      const s = split(t);
      return tf.add(tf.sum(tf.mul(s[0]!, r)), tf.sum(tf.square(s[3]!)));
    };
    const ours = tf.grad((t: tf.Tensor) => loss(t, (u) => tf.unstack(u)))(x);
    const stock = tf.grad((t: tf.Tensor) => loss(t, (u) => Array.from({ length: 5 }, (_, i) => tf.reshape(tf.slice(u, [i, 0, 0], [1, 3, 4]), [3, 4]))))(x);
    expect(maxAbsDiff(ours, stock)).toBe(0);
    expect(Array.from(tf.slice(ours, [1, 0, 0], [1, 3, 4]).dataSync()).every((v) => v === 0)).toBe(true);
    const single = tf.unstack(tf.ones([1, 2]));
    expect(single).toHaveLength(1);
    expect(single[0]!.shape).toEqual([2]);
    tf.dispose([x, r, ours, stock, ...pieces, ...ref, ...single]);
  });
});

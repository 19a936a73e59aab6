import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFusedKernels, kernelRegistered, LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL, layerNorm, setupBackend, uninstallFusedKernels } from '@vitkit/core';
import { registerGradients } from '../src/index.js';

/** Deterministic values in [-2, 2) with a row-dependent offset (LayerNorm must remove it). */
function values(n: number, dim: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = (s / 2147483648) * 4 - 2 + Math.floor(i / dim) * 0.37;
  }
  return out;
}

/** LayerNorm over the last axis in double precision, written from its definition. */
function referenceLayerNorm(x: Float32Array, g: Float32Array, b: Float32Array, dim: number, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let o = 0; o < x.length; o += dim) {
    let mean = 0;
    for (let j = 0; j < dim; j++) mean += x[o + j]! / dim;
    let variance = 0;
    for (let j = 0; j < dim; j++) variance += (x[o + j]! - mean) ** 2 / dim;
    for (let j = 0; j < dim; j++) y[o + j] = ((x[o + j]! - mean) / Math.sqrt(variance + eps)) * g[j]! + b[j]!;
  }
  return y;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe.each(['cpu', 'wasm'] as const)('fused LayerNorm kernel on %s', (backend) => {
  const shape = [3, 5, 24];
  const dim = 24;
  const eps = 1e-6;
  const xv = values(360, dim, 1);
  const gv = values(dim, dim, 2);
  const bv = values(dim, dim, 3);

  beforeAll(async () => {
    await setupBackend(backend);
    await registerGradients();
  });
  afterAll(() => {
    installFusedKernels(backend);
  });

  /** y and the gradients of sum(y * w) for x, gamma and beta, with the kernel installed or not. */
  function run(fused: boolean): { y: Float32Array; dx: Float32Array; dg: Float32Array; db: Float32Array } {
    if (fused) installFusedKernels(backend);
    else uninstallFusedKernels(backend);
    expect(kernelRegistered(LAYER_NORM_KERNEL)).toBe(fused);
    const x = tf.tensor(xv, shape);
    const g = tf.tensor1d(gv);
    const b = tf.tensor1d(bv);
    const w = tf.tensor(values(360, dim, 4), shape);
    const before = tf.memory().numTensors;
    const f = (a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(layerNorm(a, gg as tf.Tensor1D, bb as tf.Tensor1D, eps), w));
    const y = layerNorm(x, g, b, eps);
    const { value, grads } = tf.valueAndGrads(f)([x, g, b]);
    const out = { y: y.dataSync() as Float32Array, dx: grads[0]!.dataSync() as Float32Array, dg: grads[1]!.dataSync() as Float32Array, db: grads[2]!.dataSync() as Float32Array };
    tf.dispose([y, value, ...grads]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, g, b, w]);
    return out;
  }

  it('matches LayerNorm in double precision (1e-5) and the composite ops\' gradients (1e-5)', () => {
    const fused = run(true);
    const composite = run(false);
    const reference = referenceLayerNorm(xv, gv, bv, dim, eps);
    expect(maxDiff(fused.y, reference)).toBeLessThan(1e-5);
    expect(maxDiff(composite.y, reference)).toBeLessThan(1e-5);
    expect(maxDiff(fused.dx, composite.dx)).toBeLessThan(1e-5);
    expect(maxDiff(fused.dg, composite.dg)).toBeLessThan(1e-5);
    expect(maxDiff(fused.db, composite.db)).toBeLessThan(1e-5);
  });

  it('runs as one kernel forward and one backward', async () => {
    installFusedKernels(backend);
    const x = tf.tensor(xv, shape);
    const g = tf.tensor1d(gv);
    const b = tf.tensor1d(bv);
    const info = await tf.profile(() => {
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor) => tf.sum(layerNorm(a, g, b, eps)))([x]);
      tf.dispose([value, ...grads]);
    });
    const names = info.kernels.map((k) => k.name);
    expect(names.filter((n) => n === LAYER_NORM_KERNEL)).toHaveLength(1);
    expect(names.filter((n) => n === LAYER_NORM_GRAD_KERNEL)).toHaveLength(1);
    expect(names).not.toContain('Rsqrt');
    tf.dispose([x, g, b]);
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { ADAMW_KERNEL, CLIP_BY_GLOBAL_NORM_KERNEL, installFusedKernels, kernelRegistered, setupBackend, uninstallFusedKernels } from '@vitkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, clipByGlobalNorm, clipByGlobalNormAsync } from '../src/index.js';

const f32 = Math.fround;

/**
 * torch 1.13's _single_tensor_adamw on CPU for one float32 element, op by op
 * (aten float kernels: mul_, add_ with alpha = fmadd, addcmul_, sqrt, div, add_, addcdiv_),
 * each result rounded to float32. Written from torch's source, not from our kernel.
 */
function torchFloatAdamW(p0: number, grads: number[], lr: number, o: { b1: number; b2: number; eps: number; wd: number }): number {
  let p = f32(p0);
  let m = 0;
  let v = 0;
  grads.forEach((graw, i) => {
    const g = f32(graw);
    const t = i + 1;
    p = f32(p * f32(1 - lr * o.wd));
    m = f32(f32(m * f32(o.b1)) + g * f32(1 - o.b1));
    v = f32(f32(v * f32(o.b2)) + f32(f32(f32(1 - o.b2) * g) * g));
    const denom = f32(f32(f32(Math.sqrt(v)) / f32(Math.sqrt(1 - o.b2 ** t))) + f32(o.eps));
    p = f32(p + f32(f32(f32(-lr / (1 - o.b1 ** t)) * m) / denom));
  });
  return p;
}

const GRADS = [
  [0.3, -0.2, 1.0, 1e-3, -7.5],
  [0.1, 0.4, -2.0, 2e-3, 3.25],
  [-0.5, 0.0, 0.5, -1e-3, 0.125],
  [0.9, -0.7, 0.05, 5e-4, -1.5],
];
const P0 = [0.5, -1.2, 3.0, 0.01, -0.3];
const OPTS = { lr: 0.01, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1 };

/** Four steps on two parameters (one decayed, one with lrScale 0.25 and no decay); returns their values. */
function runSteps(): { w: Float32Array; s: Float32Array } {
  const w = tf.tidy(() => tf.variable(tf.tensor1d(P0)));
  const s = tf.tidy(() => tf.variable(tf.tensor1d(P0.map((x) => -x))));
  const opt = new AdamW(
    new Map([
      ['w', { variable: w, decay: true }],
      ['s', { variable: s, decay: false, lrScale: 0.25 }],
    ]),
    OPTS,
  );
  for (const g of GRADS) {
    const grads = { w: tf.tensor1d(g), s: tf.tensor1d(g.map((x) => x * 2)) };
    opt.step(grads);
    tf.dispose(Object.values(grads));
  }
  const out = { w: w.dataSync() as Float32Array, s: s.dataSync() as Float32Array };
  opt.dispose();
  tf.dispose([w, s]);
  return out;
}

describe.each(['cpu', 'wasm'] as const)('multi-tensor AdamW and clipping kernels on %s', (backend) => {
  beforeAll(async () => {
    await setupBackend(backend);
  });
  afterAll(() => {
    installFusedKernels(backend);
  });

  it("is bit-identical to torch's float32 op order, honours lrScale, and runs one kernel per step", async () => {
    installFusedKernels(backend);
    expect(kernelRegistered(ADAMW_KERNEL)).toBe(true);
    const before = tf.memory().numTensors;
    const { w, s } = runSteps();
    expect(tf.memory().numTensors).toBe(before);
    const o = { b1: OPTS.beta1, b2: OPTS.beta2, eps: OPTS.eps };
    P0.forEach((p, i) => {
      expect(w[i]).toBe(torchFloatAdamW(p, GRADS.map((g) => g[i]!), OPTS.lr, { ...o, wd: OPTS.weightDecay }));
      expect(s[i]).toBe(torchFloatAdamW(-p, GRADS.map((g) => 2 * g[i]!), OPTS.lr * 0.25, { ...o, wd: 0 }));
    });
    const v = tf.tidy(() => tf.variable(tf.zeros([4, 3])));
    const opt = new AdamW(new Map([['v', { variable: v, decay: true }]]), { lr: 0.1 });
    const g = tf.ones([4, 3]);
    const info = await tf.profile(() => opt.step({ v: g }));
    expect(info.kernels.map((k) => k.name)).toEqual([ADAMW_KERNEL]);
    opt.dispose();
    tf.dispose([v, g]);
  });

  it('agrees with the per-tensor tfjs ops (no fma there) to 2 float32 ulps', () => {
    installFusedKernels(backend);
    const fused = runSteps();
    uninstallFusedKernels(backend);
    expect(kernelRegistered(ADAMW_KERNEL)).toBe(false);
    const composite = runSteps();
    for (const k of ['w', 's'] as const) {
      fused[k].forEach((x, i) => expect(Math.abs(x - composite[k][i]!)).toBeLessThanOrEqual(2 * 2 ** -23 * Math.max(1, Math.abs(x))));
    }
  });

  it('clips by global norm in one kernel as the tfjs ops do', async () => {
    const make = () => ({ a: tf.tensor2d([[3, 0], [0, 4]]), b: tf.tensor1d([12, 0, 0]) });
    for (const fused of [true, false]) {
      if (fused) installFusedKernels(backend);
      else uninstallFusedKernels(backend);
      expect(kernelRegistered(CLIP_BY_GLOBAL_NORM_KERNEL)).toBe(fused);
      const grads = make();
      const before = tf.memory().numTensors;
      const clipped = clipByGlobalNorm(grads, 6.5);
      // norm = sqrt(9 + 16 + 144) = 13; coef = 6.5 / (13 + 1e-6)
      expect(clipped.norm).toBeCloseTo(13, 5);
      const coef = 6.5 / (13 + 1e-6);
      Array.from(clipped.grads['a']!.dataSync()).forEach((x, i) => expect(x).toBeCloseTo([3, 0, 0, 4][i]! * coef, 6));
      Array.from(clipped.grads['b']!.dataSync()).forEach((x, i) => expect(x).toBeCloseTo([12, 0, 0][i]! * coef, 6));
      const unclipped = clipByGlobalNorm(grads, 100);
      expect(Array.from(unclipped.grads['b']!.dataSync())).toEqual([12, 0, 0]);
      // The async variant (the trainer's path with no synchronous reads) gives the same norm and the same bits.
      const clippedAsync = await clipByGlobalNormAsync(grads, 6.5);
      expect(clippedAsync.norm).toBe(clipped.norm);
      for (const k of ['a', 'b']) expect(Array.from(clippedAsync.grads[k]!.dataSync())).toEqual(Array.from(clipped.grads[k]!.dataSync()));
      tf.dispose([...Object.values(clipped.grads), ...Object.values(unclipped.grads), ...Object.values(clippedAsync.grads)]);
      expect(tf.memory().numTensors).toBe(before);
      if (fused) {
        const info = await tf.profile(() => tf.dispose(Object.values(clipByGlobalNorm(grads, 1).grads)));
        expect(info.kernels.map((k) => k.name)).toEqual([CLIP_BY_GLOBAL_NORM_KERNEL]);
      }
      tf.dispose(Object.values(grads));
    }
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '@vitkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, clipByGlobalNorm, globalNorm, learningRateAt, TrainingConfigError, validateSchedule } from '../src/index.js';

/** torch.optim.AdamW's update for one scalar parameter, in double precision. */
function torchAdamW(p0: number, grads: number[], lrs: number[], o: { b1: number; b2: number; eps: number; wd: number }): number {
  let p = p0;
  let m = 0;
  let v = 0;
  grads.forEach((g, i) => {
    const t = i + 1;
    const lr = lrs[i]!;
    p *= 1 - lr * o.wd;
    m = o.b1 * m + (1 - o.b1) * g;
    v = o.b2 * v + (1 - o.b2) * g * g;
    const denom = Math.sqrt(v) / Math.sqrt(1 - o.b2 ** t) + o.eps;
    p -= (lr / (1 - o.b1 ** t)) * (m / denom);
  });
  return p;
}

describe('AdamW', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('follows torch.optim.AdamW over several steps, with decay only where asked', () => {
    const w = tf.variable(tf.tensor1d([0.5, -1.2, 3.0]));
    const b = tf.variable(tf.tensor1d([0.1, -0.1]));
    const opt = new AdamW(
      new Map([
        ['w', { variable: w, decay: true }],
        ['b', { variable: b, decay: false }],
      ]),
      { lr: 0.01, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1 },
    );
    const gw = [[0.3, -0.2, 1.0], [0.1, 0.4, -2.0], [-0.5, 0.0, 0.5]];
    const gb = [[1.0, 2.0], [-1.0, 0.5], [0.25, 0.25]];
    const lrs = [0.01, 0.005, 0.02];
    for (let s = 0; s < 3; s++) {
      const grads = { w: tf.tensor1d(gw[s]!), b: tf.tensor1d(gb[s]!) };
      opt.step(grads, lrs[s]);
      tf.dispose(Object.values(grads));
    }
    const o = { b1: 0.8, b2: 0.95, eps: 1e-6 };
    Array.from(w.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(torchAdamW([0.5, -1.2, 3.0][i]!, gw.map((g) => g[i]!), lrs, { ...o, wd: 0.1 }), 6));
    Array.from(b.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(torchAdamW([0.1, -0.1][i]!, gb.map((g) => g[i]!), lrs, { ...o, wd: 0 }), 6));
    expect(opt.stepCount).toBe(3);
    opt.dispose();
    tf.dispose([w, b]);
  });

  it('saves and restores its state so a restored optimizer continues identically', () => {
    const make = (): { v: tf.Variable; opt: AdamW } => {
      const v = tf.variable(tf.tensor1d([1, 2]));
      return { v, opt: new AdamW(new Map([['v', { variable: v, decay: true }]]), { lr: 0.1 }) };
    };
    const a = make();
    const b = make();
    const g1 = { v: tf.tensor1d([0.5, -0.5]) };
    const g2 = { v: tf.tensor1d([0.1, 0.3]) };
    a.opt.step(g1);
    const state = a.opt.getState();
    b.v.assign(a.v);
    b.opt.setState(state);
    tf.dispose([...state.expAvg.values(), ...state.expAvgSq.values()]);
    a.opt.step(g2);
    b.opt.step(g2);
    expect(Array.from(b.v.dataSync())).toEqual(Array.from(a.v.dataSync()));
    expect(b.opt.stepCount).toBe(2);
    tf.dispose([a.v, b.v, g1.v, g2.v]);
    a.opt.dispose();
    b.opt.dispose();
  });

  it('leaves parameters without a gradient alone and keeps the tensor count flat', () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const u = tf.variable(tf.tensor1d([3]));
    const opt = new AdamW(new Map([['v', { variable: v, decay: true }], ['u', { variable: u, decay: true }]]), { lr: 0.1, weightDecay: 0.5 });
    const g = { v: tf.tensor1d([1, 1]) };
    opt.step(g);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) opt.step(g);
    expect(tf.memory().numTensors).toBe(before);
    expect(u.dataSync()[0]).toBe(3);
    tf.dispose([v, u, g.v]);
    opt.dispose();
  });

  it('rejects bad settings and gradients with TrainingConfigErrors', () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const params = new Map([['v', { variable: v, decay: true }]]);
    expect(() => new AdamW(params, { beta1: 1 })).toThrow(TrainingConfigError);
    expect(() => new AdamW(params, { lr: -1 })).toThrow(TrainingConfigError);
    expect(() => new AdamW(params, { eps: 0 })).toThrow(TrainingConfigError);
    const opt = new AdamW(params);
    const wrong = tf.tensor1d([1, 2, 3]);
    expect(() => opt.step({ v: wrong })).toThrow(/shape/);
    expect(() => opt.step({ x: wrong })).toThrow(/unknown parameter/);
    opt.dispose();
    tf.dispose([v, wrong]);
  });
});

describe('clipByGlobalNorm', () => {
  it('scales by maxNorm / (norm + 1e-6) only when the norm is above maxNorm', () => {
    const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
    const n = globalNorm(Object.values(grads));
    expect(n.dataSync()[0]).toBeCloseTo(5, 6);
    n.dispose();
    const clipped = clipByGlobalNorm(grads, 1);
    expect(clipped.norm).toBeCloseTo(5, 6);
    expect(clipped.grads.a!.dataSync()[0]).toBeCloseTo(3 / (5 + 1e-6), 6);
    const loose = clipByGlobalNorm(grads, 10);
    expect(Array.from(loose.grads.b!.dataSync())).toEqual([0, 4]);
    tf.dispose([...Object.values(grads), ...Object.values(clipped.grads), ...Object.values(loose.grads)]);
  });
});

describe('learningRateAt', () => {
  const o = { kind: 'cosine' as const, lr: 1, totalSteps: 110, warmupSteps: 10, minLr: 0.1 };
  it('warms up linearly, then decays along a half cosine to minLr', () => {
    expect(learningRateAt(1, o)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(10, o)).toBeCloseTo(1, 12);
    expect(learningRateAt(60, o)).toBeCloseTo(0.1 + 0.9 * 0.5, 12);
    expect(learningRateAt(110, o)).toBeCloseTo(0.1, 12);
  });
  it('stays constant after warmup with the constant schedule', () => {
    expect(learningRateAt(1, { ...o, kind: 'constant', warmupSteps: 0 })).toBe(1);
    expect(learningRateAt(100, { ...o, kind: 'constant' })).toBe(1);
  });
  it('rejects bad schedules', () => {
    expect(() => validateSchedule({ ...o, warmupSteps: -1 })).toThrow(TrainingConfigError);
    expect(() => validateSchedule({ ...o, minLr: 2 })).toThrow(TrainingConfigError);
    expect(() => validateSchedule({ ...o, kind: 'linear' as 'cosine' })).toThrow(/unknown schedule/);
  });
});

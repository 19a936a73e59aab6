// The fused AdamW update (wasm: one JS pass over the module's memory, no
// kernels) against the per-tensor tfjs ops: bit-identical, over several steps.
import * as tf from '@tensorflow/tfjs-core';
import { setFusedOps, setupBackend } from '@vitkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdamW, clipByGlobalNorm, type OptimizedParameter } from '../src/index.js';

const SHAPES: Record<string, number[]> = { w: [7, 5], b: [5], e: [1, 3, 4] };

function makeParams(seed: number): Map<string, OptimizedParameter> {
  return new Map(Object.entries(SHAPES).map(([k, shape], i) => [k, { variable: tf.variable(tf.randomNormal(shape, 0, 1, 'float32', seed + i)), decay: k !== 'b' }]));
}

/** Seeds start at 1: tfjs takes seed 0 as no seed. */
function makeGrads(step: number): Record<string, tf.Tensor> {
  return Object.fromEntries(Object.entries(SHAPES).map(([k, shape], i) => [k, tf.randomNormal(shape, 0, step === 2 ? 1e-4 : 0.5, 'float32', 100 * step + i + 1)]));
}

function run(fused: boolean, steps: number): { weights: Float32Array[]; state: Float32Array[] } {
  const params = makeParams(1);
  const opt = new AdamW(params, { lr: 3e-3, weightDecay: 0.05, beta1: 0.85, eps: 1e-7, fused });
  for (let s = 0; s < steps; s++) {
    const grads = makeGrads(s);
    const before = tf.memory().numTensors;
    opt.step(grads, s === 3 ? 0 : 3e-3);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(Object.values(grads));
  }
  const weights = [...params.values()].map((p) => p.variable.dataSync() as Float32Array);
  const st = opt.getState();
  const state = [...st.expAvg.values(), ...st.expAvgSq.values()].map((t) => t.dataSync() as Float32Array);
  tf.dispose([...st.expAvg.values(), ...st.expAvgSq.values()]);
  opt.dispose();
  tf.dispose([...params.values()].map((p) => p.variable));
  return { weights, state };
}

describe('fused AdamW (wasm)', () => {
  beforeAll(async () => {
    await setupBackend('wasm');
  });

  it('gives bit-identical weights and moments to the per-tensor ops, over steps with decay, tiny gradients and lr 0', () => {
    const fused = run(true, 5);
    const plain = run(false, 5);
    for (let i = 0; i < fused.weights.length; i++) expect(Array.from(fused.weights[i]!)).toEqual(Array.from(plain.weights[i]!));
    for (let i = 0; i < fused.state.length; i++) expect(Array.from(fused.state[i]!)).toEqual(Array.from(plain.state[i]!));
  });

  it('launches no kernels, and changes the variables\' data ids as assign does', async () => {
    const params = makeParams(2);
    const opt = new AdamW(params, { lr: 1e-3 });
    const grads = makeGrads(0);
    const ids = [...params.values()].map((p) => p.variable.dataId);
    const fusedProfile = await tf.profile(() => opt.step(grads));
    expect(fusedProfile.kernels).toHaveLength(0);
    [...params.values()].forEach((p, i) => expect(p.variable.dataId).not.toBe(ids[i]));
    const plain = new AdamW(params, { lr: 1e-3, fused: false });
    const plainProfile = await tf.profile(() => plain.step(grads));
    expect(plainProfile.kernels.length).toBeGreaterThanOrEqual(3 * 12);
    tf.dispose(Object.values(grads));
    opt.dispose();
    plain.dispose();
  });

  it('takes the per-tensor ops where a moment\'s storage is shared, leaving the sharing tensor alone', () => {
    const params = makeParams(3);
    const opt = new AdamW(params, { lr: 1e-3 });
    const state = opt.getState();
    // setState assigns a cast (a same-dtype cast shares storage) of the caller's tensors.
    opt.setState(state);
    const kept = [...state.expAvg.values()].map((t) => Array.from(t.dataSync()));
    const grads = makeGrads(0);
    opt.step(grads);
    [...state.expAvg.values()].forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(kept[i]));
    tf.dispose([...state.expAvg.values(), ...state.expAvgSq.values(), ...Object.values(grads)]);
    opt.dispose();
  });
});

describe('fused clipByGlobalNorm (wasm)', () => {
  beforeAll(async () => {
    await setupBackend('wasm');
  });

  it('matches the tfjs ops (norm 1e-6 relative, clipped gradients 1e-7), launches no kernels, and copies when not clipping', async () => {
    const grads = makeGrads(1);
    setFusedOps(false);
    const plain = clipByGlobalNorm(grads, 0.5);
    setFusedOps(true);
    let fused = clipByGlobalNorm(grads, 0.5);
    const profile = await tf.profile(() => {
      tf.dispose(Object.values(fused.grads));
      fused = clipByGlobalNorm(grads, 0.5);
    });
    expect(profile.kernels).toHaveLength(0);
    expect(fused.norm).toBeGreaterThan(0.5);
    expect(Math.abs(fused.norm - plain.norm) / plain.norm).toBeLessThan(1e-6);
    for (const k of Object.keys(grads)) {
      const a = fused.grads[k]!.dataSync();
      const b = plain.grads[k]!.dataSync();
      expect(fused.grads[k]!.shape).toEqual(grads[k]!.shape);
      a.forEach((x, i) => expect(Math.abs(x - b[i]!)).toBeLessThan(1e-7));
    }
    const unclipped = clipByGlobalNorm(grads, 1e6);
    for (const k of Object.keys(grads)) {
      expect(unclipped.grads[k]).not.toBe(grads[k]);
      expect(Array.from(unclipped.grads[k]!.dataSync())).toEqual(Array.from(grads[k]!.dataSync()));
    }
    tf.dispose([...Object.values(grads), ...Object.values(plain.grads), ...Object.values(fused.grads), ...Object.values(unclipped.grads)]);
  });
});

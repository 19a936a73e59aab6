import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { LayerNorm, Linear, Module, setupBackend, StateDictError } from '../src/index.js';

class Tiny extends Module {
  readonly fc: Linear;
  readonly norm: LayerNorm;
  constructor() {
    super();
    this.fc = this.addModule('fc', new Linear(3, 2, { seed: 1 }));
    this.norm = this.addModule('norm', new LayerNorm(2));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.norm.forward(this.fc.forward(x)));
  }
}

describe('Module', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('names parameters like PyTorch and reports torch shapes', () => {
    const m = new Tiny();
    const params = m.namedParameters();
    expect([...params.keys()]).toEqual(['fc.weight', 'fc.bias', 'norm.weight', 'norm.bias']);
    expect(params.get('fc.weight')!.torchShape).toEqual([2, 3]);
    expect(params.get('fc.weight')!.variable.shape).toEqual([3, 2]);
    expect(params.get('fc.weight')!.decay).toBe(true);
    expect(params.get('norm.weight')!.decay).toBe(false);
    expect(m.numParameters()).toBe(3 * 2 + 2 + 2 + 2);
    m.dispose();
  });

  it('loads a PyTorch-layout state dict: y = x W^T + b', () => {
    const m = new Tiny();
    const before = tf.memory().numTensors;
    const state = new Map<string, tf.Tensor>([
      ['fc.weight', tf.tensor2d([[1, 0, 0], [0, 2, 0]])],
      ['fc.bias', tf.tensor1d([0.5, -1])],
      ['norm.weight', tf.ones([2])],
      ['norm.bias', tf.zeros([2])],
    ]);
    m.loadStateDict(state);
    const x = tf.tensor2d([[1, 2, 3]]);
    const y = m.fc.forward(x);
    expect(Array.from(y.dataSync())).toEqual([1.5, 3]);
    tf.dispose([x, y]);
    state.forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('round-trips stateDict bit for bit', () => {
    const a = new Tiny();
    const b = new Tiny();
    const sd = a.stateDict();
    b.loadStateDict(sd);
    const sd2 = b.stateDict();
    for (const [k, v] of sd) expect(Array.from(sd2.get(k)!.dataSync())).toEqual(Array.from(v.dataSync()));
    [...sd.values(), ...sd2.values()].forEach((t) => t.dispose());
    a.dispose();
    b.dispose();
  });

  it('lists missing and unexpected keys and shape mismatches', () => {
    const m = new Tiny();
    const w = tf.zeros([2, 3]);
    const extra = tf.zeros([1]);
    expect(() => m.loadStateDict(new Map([['fc.weight', w], ['bogus', extra]]))).toThrow(
      /missing 3 \(fc\.bias, norm\.weight, norm\.bias\); unexpected 1 \(bogus\)/,
    );
    const result = m.loadStateDict(new Map([['fc.weight', w]]), { strict: false });
    expect(result.missing).toEqual(['fc.bias', 'norm.weight', 'norm.bias']);
    const wrong = tf.zeros([3, 2]);
    expect(() => m.loadStateDict(new Map([['fc.weight', wrong]]), { strict: false })).toThrow(StateDictError);
    expect(() => m.loadStateDict(new Map([['fc.weight', wrong]]), { strict: false })).toThrow(
      /fc\.weight: expected \[2, 3\], got \[3, 2\]/,
    );
    [w, extra, wrong].forEach((t) => t.dispose());
    m.dispose();
  });

  it('propagates train/eval mode to children', () => {
    const m = new Tiny();
    expect(m.training).toBe(false);
    m.train();
    expect(m.fc.training).toBe(true);
    m.eval();
    expect(m.norm.training).toBe(false);
    m.dispose();
  });
});

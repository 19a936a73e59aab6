import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DuplicateNameError, LayerNorm, Linear, Module, setupBackend, StateDictError, VitkitError } from '../src/index.js';

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

/** A module with one own parameter at its root, like an input layer's tokens. */
class Token extends Module {
  constructor(name = 'token') {
    super();
    this.addParameter(name, tf.zeros([1, 2]));
  }
}

/** Two root-level children and one prefixed child between them, the way a ViT registers its parts. */
class TwoRoots extends Module {
  readonly first: Tiny;
  readonly middle: Token;
  readonly last: Token;
  constructor() {
    super();
    this.first = this.addModule('', new Tiny());
    this.middle = this.addModule('blocks', new Token());
    this.last = this.addModule('', new Token('cls_token'));
  }
}

/** Registers whatever it is told to, for the duplicate-name tests. */
class Open extends Module {
  add<M extends Module>(prefix: string, child: M): M {
    return this.addModule(prefix, child);
  }
  param(name: string): void {
    this.addParameter(name, tf.zeros([1]));
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

  it('takes several root-level children and keeps parameter order: own, then children in registration order', () => {
    const m = new TwoRoots();
    expect([...m.namedParameters().keys()]).toEqual(['fc.weight', 'fc.bias', 'norm.weight', 'norm.bias', 'blocks.token', 'cls_token']);
    const sd = m.stateDict();
    expect([...sd.keys()]).toEqual([...m.namedParameters().keys()]);
    tf.dispose([...sd.values()]);
    const own = new Open();
    own.add('', new Token('a'));
    own.param('b');
    expect([...own.namedParameters().keys()]).toEqual(['b', 'a']);
    own.dispose();
    m.dispose();
  });

  it('train()/eval() and dispose() reach every child, root-level ones included', () => {
    const m = new TwoRoots();
    const all = [m.first, m.first.fc, m.first.norm, m.middle, m.last];
    m.train();
    for (const c of all) expect(c.training).toBe(true);
    m.eval();
    for (const c of all) expect(c.training).toBe(false);
    m.train(true);
    const vars = [...m.variables().values()];
    const before = tf.memory().numTensors;
    m.dispose();
    for (const c of [m, ...all]) expect(c.isDisposed).toBe(true);
    expect(vars.every((v) => v.isDisposed)).toBe(true);
    expect(tf.memory().numTensors).toBe(before - vars.length);
  });

  it('a child registered later takes on the parent mode', () => {
    const m = new Open();
    m.train();
    const child = m.add('', new Tiny());
    expect(child.fc.training).toBe(true);
    m.dispose();
  });

  it('refuses a parameter name that is already taken, naming it', () => {
    const m = new Open();
    m.add('', new Tiny());
    const clash = new Token('fc.weight');
    expect(() => m.add('', clash)).toThrow(DuplicateNameError);
    expect(() => m.add('', clash)).toThrow(/fc\.weight/);
    expect(() => m.param('norm.bias')).toThrow(DuplicateNameError);
    expect(() => m.param('norm.bias')).toThrow(/norm\.bias/);
    const prefixed = new Open();
    prefixed.add('fc', new Token('weight'));
    expect(() => prefixed.param('fc.weight')).toThrow(/fc\.weight/);
    expect(() => prefixed.add('', new Token('fc.weight'))).toThrow(DuplicateNameError);
    // Nothing was registered by the refused calls.
    expect([...m.namedParameters().keys()]).toEqual(['fc.weight', 'fc.bias', 'norm.weight', 'norm.bias']);
    let error: unknown;
    try {
      m.param('fc.bias');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(VitkitError);
    expect((error as VitkitError).code).toBe('E_DUPLICATE_NAME');
    clash.dispose();
    m.dispose();
    prefixed.dispose();
  });

  it('refuses a named prefix or a child module registered twice', () => {
    const m = new Open();
    m.add('a', new Token());
    expect(() => m.add('a', new Token('other'))).toThrow(DuplicateNameError);
    const child = m.add('', new Token('x'));
    expect(() => m.add('b', child)).toThrow(DuplicateNameError);
    m.dispose();
  });

  it('namedParameters throws when a child gains a clashing name after registration', () => {
    const m = new Open();
    const child = m.add('', new Open());
    m.param('late');
    child.param('late');
    expect(() => m.namedParameters()).toThrow(DuplicateNameError);
    expect(() => m.namedParameters()).toThrow(/late/);
    m.dispose();
  });
});

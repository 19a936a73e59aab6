import { describe, expect, it } from 'vitest';
import { Rng } from '../src/index.js';

describe('Rng', () => {
  it('fromSeed seeds like the constructor, and picks a random seed when none is given', () => {
    expect(Rng.fromSeed(42).getState()).toBe(new Rng(42).getState());
    expect(Rng.fromSeed(7).next()).toBe(new Rng(7).next());
    const states = new Set(Array.from({ length: 8 }, () => Rng.fromSeed().getState()));
    expect(states.size).toBeGreaterThan(1);
    for (const s of states) expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
  });

  it('is deterministic, resumable and roughly uniform', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const seqA = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(seqA);
    const state = a.getState();
    const next = a.next();
    const c = new Rng(0);
    c.setState(state);
    expect(c.next()).toBe(next);
    const r = new Rng(1);
    let sum = 0;
    for (let i = 0; i < 10000; i++) sum += r.next();
    expect(Math.abs(sum / 10000 - 0.5)).toBeLessThan(0.02);
  });

  it('shuffles to a permutation', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = new Rng(3).shuffle([...items]);
    expect([...shuffled].sort((x, y) => x - y)).toEqual(items);
    expect(shuffled).not.toEqual(items);
  });
});

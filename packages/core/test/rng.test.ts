import { describe, expect, it } from 'vitest';
import { Rng } from '../src/index.js';

describe('Rng', () => {
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

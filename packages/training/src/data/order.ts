import { Rng } from '@vitkit/core';

/**
 * A seed for epoch `epoch` derived from the run seed, so that each epoch's
 * order can be rebuilt on resume without saving it (a 32-bit hash mix).
 */
export function epochSeed(seed: number, epoch: number): number {
  let h = (seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** The sample order of one epoch: a seeded permutation, or file order when `shuffle` is false. */
export function epochOrder(count: number, epoch: number, seed: number, shuffle: boolean): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  return shuffle ? new Rng(epochSeed(seed, epoch)).shuffle(order) : order;
}

/**
 * Splits sample indices into a training part and a validation part of
 * `fraction` of the samples (rounded, so a tiny set may get none), chosen by
 * a seeded shuffle so the split is the same on every run with that seed.
 */
export function splitIndices(count: number, fraction: number, seed: number): { train: number[]; val: number[] } {
  const all = Array.from({ length: count }, (_, i) => i);
  const nVal = Math.min(count - 1, Math.round(count * Math.max(0, fraction)));
  if (nVal <= 0) return { train: all, val: [] };
  new Rng(epochSeed(seed, -1)).shuffle(all);
  const val = all.slice(0, nVal).sort((a, b) => a - b);
  const train = all.slice(nVal).sort((a, b) => a - b);
  return { train, val };
}

import { Rng } from '@vitkit/core';

/**
 * One Rng per module seeds every random initial value and serves as the
 * default dropout randomness, so a given seed always builds the same module.
 * The same as Rng.fromSeed; attention.ts still calls it under this name.
 */
export function initRng(seed: number | undefined): Rng {
  return Rng.fromSeed(seed);
}

import { Rng } from '@vitkit/core';

/**
 * One Rng per module seeds every random initial value and serves as the
 * default dropout randomness, so a given seed always builds the same module.
 */
export function initRng(seed: number | undefined): Rng {
  return new Rng(seed ?? Math.floor(Math.random() * 2 ** 32));
}

import { Rng } from '@vitkit/core';
import type { RawTensor } from './raw_tensor.js';

/**
 * A fresh classifier: weight [numClasses, embedDim] from a normal
 * distribution with std 0.02 truncated at two standard deviations (timm's
 * Linear init), bias zeros. Seeded, so loads are reproducible.
 */
export function freshHead(numClasses: number, embedDim: number, seed = 0): { weight: RawTensor; bias: RawTensor } {
  const rng = new Rng(seed);
  const std = 0.02;
  const w = new Float32Array(numClasses * embedDim);
  for (let i = 0; i < w.length; i++) {
    let z: number;
    do {
      // Box-Muller; 1 - next() keeps the log argument in (0, 1].
      z = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    } while (Math.abs(z) > 2);
    w[i] = z * std;
  }
  return {
    weight: { shape: [numClasses, embedDim], data: w },
    bias: { shape: [numClasses], data: new Float32Array(numClasses) },
  };
}

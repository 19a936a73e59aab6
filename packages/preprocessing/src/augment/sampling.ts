import type { Rng } from '@vitkit/core';

/** Standard normal draw (Box-Muller), from two uniforms of `rng`. */
export function normal(rng: Rng): number {
  const u = 1 - rng.next(); // (0, 1]: log stays finite
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, 1) draw: Marsaglia-Tsang, with the U^(1/shape) boost for shape < 1. */
export function gamma(rng: Rng, shape: number): number {
  if (shape < 1) return gamma(rng, shape + 1) * Math.pow(1 - rng.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Beta(a, b) draw as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function beta(rng: Rng, a: number, b: number): number {
  const x = gamma(rng, a);
  const y = gamma(rng, b);
  return x + y === 0 ? 0.5 : x / (x + y);
}

/** Integer uniform in [lo, hi) like numpy's randint(lo, hi). */
export function randint(rng: Rng, lo: number, hi: number): number {
  return lo + rng.int(Math.max(1, hi - lo));
}

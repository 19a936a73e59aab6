/**
 * Double-precision references for the GELU tests (fused_gelu.test.ts, and
 * gpu/page.ts in the browser): erf, erfc and the normal CDF, written from
 * their series, accurate to ~1e-15.
 */

/**
 * erf in double precision from its series: Maclaurin below |x| = 2.5, the
 * continued fraction of erfc above ~1e-15.
 */
export function erf64(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-18; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  return Math.sign(x) * (1 - erfc64(a));
}

/** erfc(a), a >= 2.5, by Lentz's continued fraction: keeps its relative accuracy in the tail. */
export function erfc64(a: number): number {
  const tiny = 1e-300;
  let f = a;
  let c = a;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    d = a + (n / 2) * d;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = a + n / 2 / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
}

/** Phi(x), from the small side in the left tail. */
export const phi64 = (x: number): number => (x < -2.5 * Math.SQRT2 ? 0.5 * erfc64(-x / Math.SQRT2) : 0.5 * (1 + erf64(x / Math.SQRT2)));

import type * as tf from '@tensorflow/tfjs-core';
import type { GeluForm } from '../fused/gelu.js';

/**
 * The arithmetic of the GPU GELU kernels, shared by the GLSL (webgl) and WGSL
 * (webgpu) shaders: both languages write a float expression the same way, so
 * the constants and polynomials are rendered here once and each shader only
 * adds its own declarations. Neither language has erf.
 *
 * erfc: Numerical Recipes' erfcc (Chebyshev fit), for z >= 0
 *   erfc(z) = t exp(-z^2 + P(t)),  t = 1 / (1 + z / 2),
 * with fractional error under 1.2e-7 everywhere: erf = 1 - erfc is then good
 * to 1.2e-7 absolute near 0 and, unlike 1 - erf, the tail Phi(x) for x << 0
 * keeps its relative accuracy (no cancellation). A&S 7.1.26, which tfjs uses
 * for Erf, is 1.5e-7 absolute but loses the tail.
 *
 * Nothing here may overflow: WGSL lets implementations assume no infinities,
 * so every exp argument is <= 0 or bounded, and x is clamped where only a
 * saturated factor multiplies it.
 */

/** A float literal both GLSL and WGSL accept (9 significant digits round-trip float32). */
export function lit(v: number): string {
  const s = v.toPrecision(9);
  return s.includes('.') || s.includes('e') ? s : `${s}.0`;
}

/** c0 + v (c1 + v (c2 + ...)), Horner's form. */
function horner(coeffs: readonly number[], v: string): string {
  return coeffs.reduceRight((inner, c, i) => (i === coeffs.length - 1 ? lit(c) : `${lit(c)} + ${v} * (${inner})`), '');
}

/** Numerical Recipes erfcc: P(t) in erfc(z) = t exp(-z^2 + P(t)). */
const ERFC_P = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];

export const GELU_CONSTANTS = {
  /** P(t) of erfc, as an expression in `t`. */
  erfcPoly: horner(ERFC_P, 't'),
  /** erfc(10) ~ 2e-45 is (all but) 0 in float32: a larger z changes nothing, and -z^2 stays small. */
  erfcZMax: lit(10),
  sqrt1_2: lit(Math.SQRT1_2),
  /** 1 / sqrt(2 pi), phi(0). */
  invSqrt2Pi: lit(1 / Math.sqrt(2 * Math.PI)),
  sqrt2OverPi: lit(Math.sqrt(2 / Math.PI)),
  tanhCubic: lit(0.044715),
  /** 3 * 0.044715, the cubic's derivative. */
  tanhCubic3: lit(3 * 0.044715),
  quick: lit(1.702),
  /**
   * |x| beyond which every form has saturated in float32 (phi(x) = 0,
   * sigmoid = 0 or 1): x is clamped to it inside x^2 and x^3, which would
   * otherwise overflow.
   */
  xMax: lit(1e4),
} as const;

/** The kernels' `form` attr, checked: a shader is generated per form. */
export function geluForm(attrs: tf.NamedAttrMap | undefined): GeluForm {
  const form: unknown = attrs?.['form'];
  if (form === 'exact' || form === 'tanh' || form === 'quick') return form;
  throw new Error(`VitkitGelu: unknown form ${String(form)} (exact, tanh or quick)`);
}

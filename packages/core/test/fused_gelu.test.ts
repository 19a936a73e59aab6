import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { geluModule, type GeluForm } from '../src/backends/wasm/gelu.js';
import { GELU_SHARED_WASM_BASE64, GELU_WASM_BASE64 } from '../src/backends/wasm/gelu_binary.js';
import { GELU_GRAD_KERNEL, GELU_KERNEL, gelu, geluTanh, installFusedKernels, quickGelu, kernelRegistered, setupBackend, uninstallFusedKernels } from '../src/index.js';
// @ts-expect-error -- a plain .mjs build script without type declarations
import { compileWat, watVariants } from '../scripts/compile_wat.mjs';
import { erf64 } from './support/erf64.js';

const gelu64 = (x: number): number => 0.5 * x * (1 + erf64(x / Math.SQRT2));
const geluGrad64 = (x: number): number => 0.5 * (1 + erf64(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
const tanhArg = (x: number): number => Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3);
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Each form and its derivative in double precision, from their definitions (torch.nn.GELU, timm quick_gelu). */
const REFERENCE: Record<GeluForm, [(x: number) => number, (x: number) => number]> = {
  exact: [gelu64, geluGrad64],
  tanh: [
    (x) => 0.5 * x * (1 + Math.tanh(tanhArg(x))),
    (x) => 0.5 * (1 + Math.tanh(tanhArg(x))) + 0.5 * x * (1 - Math.tanh(tanhArg(x)) ** 2) * Math.sqrt(2 / Math.PI) * (1 + 3 * 0.044715 * x * x),
  ],
  quick: [(x) => x * sigmoid(1.702 * x), (x) => sigmoid(1.702 * x) + 1.702 * x * sigmoid(1.702 * x) * (1 - sigmoid(1.702 * x))],
};
const FORMS = ['exact', 'tanh', 'quick'] as const;

/** n float32 values spread over [lo, hi] (n not a multiple of 4 in the tests: the module pads to fours). */
function grid(lo: number, hi: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

/** The largest |got - want|, or with `relative` the largest |got - want| / max(1, |want|). */
function maxDiff(got: ArrayLike<number>, want: ArrayLike<number>, relative = false): number {
  expect(got.length).toBe(want.length);
  return Array.from(got).reduce((worst, g, i) => Math.max(worst, Math.abs(g - want[i]!) / (relative ? Math.max(1, Math.abs(want[i]!)) : 1)), 0);
}

describe('the SIMD GELU module (gelu.wat)', () => {
  it('has a double-precision erf reference that matches published values (1e-14)', () => {
    // erf(0.5), erf(1), erf(2), erf(3) and erfc(4) = 1 - erf(4), from Abramowitz & Stegun / DLMF to 16 digits.
    expect(Math.abs(erf64(0.5) - 0.5204998778130465)).toBeLessThan(1e-14);
    expect(Math.abs(erf64(1) - 0.8427007929497149)).toBeLessThan(1e-14);
    expect(Math.abs(erf64(2) - 0.9953222650189527)).toBeLessThan(1e-14);
    expect(Math.abs(erf64(3) - 0.9999779095030014)).toBeLessThan(1e-14);
    expect(Math.abs(1 - erf64(4) - 1.541725790028002e-8)).toBeLessThan(1e-15);
  });

  it('computes erf within 2e-7 of the double-precision erf over [-12, 12]', () => {
    const x = grid(-12, 12, 240_001);
    const y = new Float32Array(x.length);
    geluModule()!.erf(x, y);
    expect(maxDiff(y, Array.from(x, erf64))).toBeLessThan(2e-7);
  });

  it.each(FORMS)('computes %s GELU and its derivative within 5e-7 relative (absolute below 1) of double precision over [-12, 12]', (form) => {
    const x = grid(-12, 12, 120_001);
    const y = new Float32Array(x.length);
    const dx = new Float32Array(x.length);
    geluModule()!.gelu(x, y, form);
    geluModule()!.geluGrad(x, new Float32Array(x.length).fill(1), dx, form);
    const [f, df] = REFERENCE[form];
    expect(maxDiff(y, Array.from(x, f), true)).toBeLessThan(5e-7);
    expect(maxDiff(dx, Array.from(x, df), true)).toBeLessThan(5e-7);
  });

  it.each(FORMS)('keeps %s GELU and its derivative within 1e-7 of double precision far out, to |x| = 1e4 (no error growing with |x|)', (form) => {
    const x = Float32Array.from([-1e4, -1000, -100, -37.5, -12.25, 12.25, 37.5, 100, 1000, 1e4]);
    const y = new Float32Array(x.length);
    const dx = new Float32Array(x.length);
    geluModule()!.gelu(x, y, form);
    geluModule()!.geluGrad(x, new Float32Array(x.length).fill(1), dx, form);
    const [f, df] = REFERENCE[form];
    expect(maxDiff(y, Array.from(x, f), true)).toBeLessThan(1e-7);
    expect(maxDiff(dx, Array.from(x, df), true)).toBeLessThan(1e-7);
  });

  it('the committed module bytes are gelu.wat compiled, both variants (run build:wasm after editing it)', async () => {
    const wat = readFileSync(new URL('../src/backends/wasm/gelu.wat', import.meta.url), 'utf8');
    const texts = (watVariants(wat) as [string, string][]).map(([, text]) => text);
    const bytes = await Promise.all(texts.map(async (text) => Buffer.from((await compileWat('gelu.wat', text)) as Uint8Array).toString('base64')));
    expect(bytes).toEqual([GELU_WASM_BASE64, GELU_SHARED_WASM_BASE64]);
  });
});

describe.each(['cpu', 'wasm'] as const)('fused GELU kernel on %s', (backend) => {
  const shape = [3, 7, 13];
  const xv = grid(-6, 6, 273);
  const wv = Float32Array.from(xv, (v, i) => Math.sin(i) + v / 10);

  beforeAll(async () => {
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    await setupBackend(backend);
  });
  afterAll(() => {
    installFusedKernels(backend);
  });

  const OPS: Record<GeluForm, (x: tf.Tensor) => tf.Tensor> = { exact: gelu, tanh: geluTanh, quick: quickGelu };

  /** op(x) and the gradient of sum(op(x) * w), with the kernel installed or not. */
  function run(op: (x: tf.Tensor) => tf.Tensor, fused: boolean): { y: Float32Array; dx: Float32Array } {
    if (fused) installFusedKernels(backend);
    else uninstallFusedKernels(backend, [GELU_KERNEL, GELU_GRAD_KERNEL]);
    expect(kernelRegistered(GELU_KERNEL)).toBe(fused);
    const x = tf.tensor(xv, shape);
    const w = tf.tensor(wv, shape);
    const before = tf.memory().numTensors;
    const y = op(x);
    const { value, grads } = tf.valueAndGrads((a: tf.Tensor) => tf.sum(tf.mul(op(a), w)))([x]);
    const out = { y: Float32Array.from(y.dataSync()), dx: Float32Array.from(grads[0]!.dataSync()) };
    tf.dispose([y, value, ...grads]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
    return out;
  }

  it.each(FORMS)('%s: matches double precision (1e-6) and the composite ops (1e-5)', (form) => {
    const fused = run(OPS[form], true);
    const composite = run(OPS[form], false);
    const [f, df] = REFERENCE[form];
    expect(maxDiff(fused.y, Array.from(xv, f))).toBeLessThan(1e-6);
    expect(maxDiff(fused.dx, Array.from(xv, (v, i) => wv[i]! * df(v)))).toBeLessThan(1e-6);
    expect(maxDiff(fused.y, composite.y)).toBeLessThan(1e-5);
    expect(maxDiff(fused.dx, composite.dx)).toBeLessThan(1e-5);
  });

  it('runs as one kernel forward and one backward', async () => {
    installFusedKernels(backend);
    const x = tf.tensor(xv, shape);
    const info = await tf.profile(() => {
      const { value, grads } = tf.valueAndGrads((a: tf.Tensor) => tf.sum(gelu(a)))([x]);
      tf.dispose([value, ...grads]);
    });
    const names = info.kernels.map((k) => k.name);
    expect(names.filter((n) => n === GELU_KERNEL)).toHaveLength(1);
    expect(names.filter((n) => n === GELU_GRAD_KERNEL)).toHaveLength(1);
    expect(names).not.toContain('Erf');
    x.dispose();
  });
});

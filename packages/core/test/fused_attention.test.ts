import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wasmAttention, wasmAttentionPays } from '../src/backends/wasm/attention.js';
import type { WasmHeapBackend } from '../src/backends/wasm/heap_kernels.js';
import { ATTENTION_GRAD_KERNEL, ATTENTION_KERNEL, fusedAttention, fusedAttentionContext, installFusedKernels, kernelRegistered, Rng, setupBackend, uninstallFusedKernels } from '../src/index.js';

/** [batch, tokens, heads, headDim]: the recipe model's heads, ViT's 197 tokens cut down, odd sizes for every SIMD tail, one token. */
const SHAPES: [number, number, number, number][] = [
  [2, 5, 3, 4],
  [3, 17, 4, 24],
  [1, 50, 2, 37],
  [2, 1, 1, 3],
];

function random(n: number, rng: Rng, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(-scale, scale));
}

/** softmax(q k^T scale) v per head in double, written from the definition: the forward reference. */
function reference(qkv: Float32Array, [batch, tokens, heads, dh]: number[], scale: number): { context: Float64Array; probs: Float64Array } {
  const dim = heads! * dh!;
  const context = new Float64Array(batch! * tokens! * dim);
  const probs = new Float64Array(batch! * heads! * tokens! * tokens!);
  const at = (b: number, t: number, part: number, h: number, d: number): number => qkv[(b * tokens! + t) * 3 * dim + part * dim + h * dh! + d]!;
  for (let b = 0; b < batch!; b++) {
    for (let h = 0; h < heads!; h++) {
      for (let i = 0; i < tokens!; i++) {
        const s = Array.from({ length: tokens! }, (_, j) => {
          let dot = 0;
          for (let d = 0; d < dh!; d++) dot += at(b, i, 0, h, d) * at(b, j, 1, h, d);
          return dot * scale;
        });
        const max = Math.max(...s);
        const e = s.map((v) => Math.exp(v - max));
        const sum = e.reduce((a, v) => a + v, 0);
        e.forEach((v, j) => {
          probs[((b * heads! + h) * tokens! + i) * tokens! + j] = v / sum;
          for (let d = 0; d < dh!; d++) context[(b * tokens! + i) * dim + h * dh! + d]! += (v / sum) * at(b, j, 2, h, d);
        });
      }
    }
  }
  return { context, probs };
}

/** The same attention as tfjs ops (what backends without the kernel run): the gradients' reference, by tfjs's autodiff. */
function composite(qkv: tf.Tensor2D, [batch, tokens, heads, dh]: number[], scale: number): { context: tf.Tensor; probs: tf.Tensor } {
  const [q, k, v] = tf.split(qkv, 3, 1).map((m) => tf.transpose(tf.reshape(m, [batch!, tokens!, heads!, dh!]), [0, 2, 1, 3]));
  const probs = tf.softmax(tf.mul(tf.matMul(q!, k!, false, true), scale));
  const context = tf.reshape(tf.transpose(tf.matMul(probs, v!), [0, 2, 1, 3]), [batch! * tokens!, heads! * dh!]);
  return { context, probs };
}

function maxRelErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
  return worst;
}

describe.each(['cpu', 'wasm'] as const)('the fused attention kernels on %s', (backend) => {
  beforeAll(async () => {
    // tfjs-core registers no gradients by itself: the composite reference needs them.
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    await setupBackend(backend);
  });
  afterAll(() => installFusedKernels(backend));

  it('are registered by setupBackend, and on wasm run the SIMD module', () => {
    expect(kernelRegistered(ATTENTION_KERNEL)).toBe(true);
    expect(kernelRegistered(ATTENTION_GRAD_KERNEL)).toBe(true);
    if (backend === 'wasm') expect(wasmAttention(tf.backend() as unknown as WasmHeapBackend)).toBeDefined();
  });

  it.each(SHAPES)('forward [batch %i, tokens %i, heads %i, headDim %i] matches softmax(q k^T scale) v in double', (batch, tokens, heads, dh) => {
    const shape = [batch, tokens, heads, dh];
    const rng = new Rng(batch * 1000 + tokens);
    const values = random(batch * tokens * 3 * heads * dh, rng, 2);
    const scale = dh ** -0.5;
    const qkv = tf.tensor2d(values, [batch * tokens, 3 * heads * dh]);
    const { context, probs } = fusedAttention(qkv, { tokens, heads, scale })!;
    expect(context.shape).toEqual([batch * tokens, heads * dh]);
    expect(probs.shape).toEqual([batch, heads, tokens, tokens]);
    const ref = reference(values, shape, scale);
    // float32 products over Dh <= 37 terms of |x| <= 4: a few ulp of the result.
    expect(maxRelErr(context.dataSync(), ref.context)).toBeLessThan(2e-6);
    expect(maxRelErr(probs.dataSync(), ref.probs)).toBeLessThan(2e-6);
    tf.dispose([qkv, context, probs]);
  });

  it.each(SHAPES)('gradients [batch %i, tokens %i, heads %i, headDim %i] match tfjs autodiff of the composite ops, with and without a use of the probabilities', (batch, tokens, heads, dh) => {
    const shape = [batch, tokens, heads, dh];
    const rng = new Rng(batch * 7 + tokens * 3 + dh);
    const scale = dh ** -0.5;
    const qkv = tf.tensor2d(random(batch * tokens * 3 * heads * dh, rng, 2), [batch * tokens, 3 * heads * dh]);
    const wc = tf.tensor2d(random(batch * tokens * heads * dh, rng), [batch * tokens, heads * dh]);
    const wp = tf.tensor4d(random(batch * heads * tokens * tokens, rng), [batch, heads, tokens, tokens]);
    for (const useProbs of [false, true]) {
      const loss = (run: (x: tf.Tensor2D) => { context: tf.Tensor; probs: tf.Tensor }) => (x: tf.Tensor) => {
        const { context, probs } = run(x as tf.Tensor2D);
        const l = tf.sum(tf.mul(context, wc));
        return useProbs ? tf.add(l, tf.sum(tf.mul(probs, wp))) : l;
      };
      const fused = tf.grad(loss((x) => fusedAttention(x, { tokens, heads, scale })!))(qkv);
      // The context-only op (what training runs): one output, its own gradient.
      const contextOnly = useProbs ? undefined : tf.grad((x: tf.Tensor) => tf.sum(tf.mul(fusedAttentionContext(x as tf.Tensor2D, { tokens, heads, scale })!, wc)))(qkv);
      uninstallFusedKernels(backend, [ATTENTION_KERNEL, ATTENTION_GRAD_KERNEL]);
      expect(fusedAttention(qkv, { tokens, heads, scale })).toBeUndefined();
      const expected = tf.grad(loss((x) => composite(x, shape, scale)))(qkv);
      installFusedKernels(backend);
      // Both float32, summed in different orders over T and Dh.
      expect(maxRelErr(fused.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
      if (contextOnly) expect(maxRelErr(contextOnly.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
      tf.dispose([fused, expected, ...(contextOnly ? [contextOnly] : [])]);
    }
    tf.dispose([qkv, wc, wp]);
  });

  it('leaves no tensors behind, forward and backward', () => {
    const qkv = tf.randomNormal([2 * 9, 3 * 12], 0, 1, 'float32', 5) as tf.Tensor2D;
    const f = (x: tf.Tensor): tf.Scalar => tf.tidy(() => {
      const { context, probs } = fusedAttention(x as tf.Tensor2D, { tokens: 9, heads: 2, scale: 0.4 })!;
      return tf.add(tf.sum(context), tf.sum(tf.square(probs)));
    });
    const g = (x: tf.Tensor): tf.Scalar => tf.tidy(() => tf.sum(fusedAttentionContext(x as tf.Tensor2D, { tokens: 9, heads: 2, scale: 0.4 })!));
    tf.dispose([tf.grad(f)(qkv), tf.grad(g)(qkv)]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose([tf.grad(f)(qkv), tf.grad(g)(qkv), tf.tidy(() => g(qkv))]);
    expect(tf.memory().numTensors).toBe(before);
    qkv.dispose();
  });
});

describe('where the fused attention pays on wasm', () => {
  const backend = (threads: number) => ({ wasm: { tfjs: { getThreadsCount: () => threads } } });

  it('takes small heads on any thread count, large heads only on one thread (XNNPACK spreads those over the others)', () => {
    expect(wasmAttentionPays(backend(2), 16, 24)).toBe(true); // the fashion-mnist recipe
    expect(wasmAttentionPays(backend(2), 197, 64)).toBe(false); // ViT-Ti/16, ViT-B/16 at 224
    expect(wasmAttentionPays(backend(1), 197, 64)).toBe(true);
    expect(wasmAttentionPays({ wasm: {} }, 197, 64)).toBe(true); // no thread count: the single-threaded build
  });
});

import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs build script without type declarations
import { compileWat, watVariants } from '../scripts/compile_wat.mjs';
import { HEAP_KERNELS_SHARED_WASM_BASE64, HEAP_KERNELS_WASM_BASE64 } from '../src/backends/wasm/heap_kernels_binary.js';
import { heapKernels, type WasmHeapBackend } from '../src/backends/wasm/heap_kernels.js';
import { ADAMW_SHARED_WASM_BASE64, ADAMW_WASM_BASE64 } from '../src/backends/wasm/adamw_binary.js';
import { LAYER_NORM_SHARED_WASM_BASE64, LAYER_NORM_WASM_BASE64 } from '../src/backends/wasm/layer_norm_binary.js';
import { ATTENTION_SHARED_WASM_BASE64, ATTENTION_WASM_BASE64 } from '../src/backends/wasm/attention_binary.js';
import { leadingReduction } from '../src/backends/wasm/sum.js';
import { asAxisSwap, collapsePermutation } from '../src/backends/wasm/transpose.js';
import { LAYER_NORM_GRAD_KERNEL, LAYER_NORM_KERNEL, Rng, setupBackend } from '../src/index.js';

/** [shape, perm]: 2-D (edges of every size mod 4), batched, attention's head split and merge, size-1 axes, and perms the module does not take. */
const TRANSPOSES: [number[], number[]][] = [
  [[2048, 96], [1, 0]],
  [[7, 5], [1, 0]],
  [[4, 4], [1, 0]],
  [[1, 9], [1, 0]],
  [[3, 9, 13], [0, 2, 1]],
  [[128, 4, 16, 24], [0, 2, 1, 3]],
  [[2, 17, 3, 5], [0, 2, 1, 3]],
  [[3, 5, 6], [1, 0, 2]],
  [[1, 37, 11], [0, 2, 1]],
  [[4, 1, 6, 3], [2, 1, 0, 3]],
  [[5, 6, 7], [2, 0, 1]], // not a swap: stock kernel
  [[2, 3, 4, 5], [3, 2, 1, 0]], // not a swap: stock kernel
];

/** [shape, axes, keepDims]: bias gradients, leading reductions around size-1 axes, and reductions the module does not take. */
const SUMS: [number[], number[], boolean][] = [
  [[1, 2048, 288], [0, 1], false],
  [[2048, 7], [0], true],
  [[1, 5, 1, 3], [0, 1], true],
  [[6, 1, 5], [0, 1], false],
  [[3, 5, 2], [0, 1, 2], false],
  [[3, 5, 2], [2], false], // trailing: stock kernel
  [[3, 5, 2], [0, 2], false], // mixed: stock kernel
];

function values(shape: number[], rng: Rng): Float32Array {
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1));
}

/** Column sums of a row-major [rows, cols] array in double: the reference for colsum. */
function columnSums(x: Float32Array, rows: number, cols: number): number[] {
  const s = new Array<number>(cols).fill(0);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) s[j]! += x[i * cols + j]!;
  return s;
}

describe('heap kernels: which permutations and reductions they take', () => {
  it('collapses size-1 axes and neighbours, and recognizes axis swaps', () => {
    expect(collapsePermutation([2048, 96], [1, 0])).toEqual({ dims: [2048, 96], perm: [1, 0] });
    expect(collapsePermutation([1, 2048, 96], [0, 2, 1])).toEqual({ dims: [2048, 96], perm: [1, 0] });
    expect(collapsePermutation([128, 4, 16, 24], [0, 2, 1, 3])).toEqual({ dims: [128, 4, 16, 24], perm: [0, 2, 1, 3] });
    expect(collapsePermutation([2, 3, 4, 5], [2, 3, 0, 1])).toEqual({ dims: [6, 20], perm: [1, 0] });
    expect(asAxisSwap(collapsePermutation([3, 5, 6], [1, 0, 2]))).toEqual([1, 3, 5, 6]);
    expect(asAxisSwap(collapsePermutation([5, 6, 7], [2, 0, 1]))).toEqual([1, 30, 7, 1]);
    expect(asAxisSwap(collapsePermutation([2, 3, 4], [2, 1, 0]))).toBeUndefined();
  });

  it('takes reductions over leading axes only', () => {
    expect(leadingReduction([1, 2048, 288], [0, 1])).toEqual([2048, 288]);
    expect(leadingReduction([2048, 1, 7], [0, 1])).toEqual([2048, 7]);
    expect(leadingReduction([1, 5, 1, 3], [0, 1, 2])).toEqual([5, 3]);
    expect(leadingReduction([3, 5, 2], [2])).toBeUndefined();
    expect(leadingReduction([3, 5, 2], [0, 2])).toBeUndefined();
  });
});

describe.each([
  ['unshared', HEAP_KERNELS_WASM_BASE64, false],
  ['shared', HEAP_KERNELS_SHARED_WASM_BASE64, true],
] as const)('heap kernels module (%s memory)', (_name, _base64, shared) => {
  /** The module over a memory of its own, through heapKernels' lookup of a backend's memory. */
  function standalone(): { kernels: ReturnType<typeof heapKernels>; memory: WebAssembly.Memory } {
    const memory = new WebAssembly.Memory(shared ? { initial: 16, maximum: 65536, shared: true } : { initial: 16 });
    const backend = { wasm: { wasmMemory: memory } } as unknown as WasmHeapBackend;
    return { kernels: heapKernels(backend), memory };
  }

  it('transposes every swap exactly', () => {
    const { kernels, memory } = standalone();
    const rng = new Rng(5);
    for (const [batch, rows, cols, inner] of [[1, 7, 5, 1], [2, 9, 13, 1], [3, 4, 6, 5], [1, 33, 17, 4]]) {
      const n = batch! * rows! * cols! * inner!;
      const x = values([n], rng);
      new Float32Array(memory.buffer, 64, n).set(x);
      const dst = 64 + n * 4 + 32;
      kernels!.transpose(64, dst, batch!, rows!, cols!, inner!);
      const got = new Float32Array(memory.buffer, dst, n);
      for (let b = 0; b < batch!; b++)
        for (let i = 0; i < rows!; i++)
          for (let j = 0; j < cols!; j++)
            for (let e = 0; e < inner!; e++) {
              const from = ((b * rows! + i) * cols! + j) * inner! + e;
              const to = ((b * cols! + j) * rows! + i) * inner! + e;
              if (got[to] !== x[from]) throw new Error(`[${batch},${rows},${cols},${inner}] element ${from}: ${got[to]} != ${x[from]}`);
            }
    }
  });

  it('sums columns in double, rounded once', () => {
    const { kernels, memory } = standalone();
    const rng = new Rng(6);
    for (const [rows, cols] of [[2048, 7], [3, 4], [1000, 1], [5, 13]]) {
      const x = values([rows! * cols!], rng);
      new Float32Array(memory.buffer, 16, x.length).set(x);
      const dst = 16 + x.length * 4;
      kernels!.colsum(16, dst, rows!, cols!);
      expect(Array.from(new Float32Array(memory.buffer, dst, cols!))).toEqual(columnSums(x, rows!, cols!).map(Math.fround));
    }
  });
});

describe("vitkit's Transpose and Sum for the wasm backend", () => {
  beforeAll(async () => {
    await setupBackend('wasm');
  });

  function runTransposes(): number[][] {
    const rng = new Rng(3);
    return TRANSPOSES.map(([shape, perm]) =>
      tf.tidy(() => {
        const y = tf.transpose(tf.tensor(values(shape, rng), shape), perm);
        return [...y.shape, ...y.dataSync()];
      }),
    );
  }

  it('gives exactly the cpu backend\'s transposes, leaking no tensor', async () => {
    await setupBackend('cpu');
    const expected = runTransposes();
    await setupBackend('wasm');
    const before = tf.memory().numTensors;
    const got = runTransposes();
    expect(tf.memory().numTensors).toBe(before);
    expect(got).toEqual(expected);
  });

  it('sums to within float32 rounding of the double-precision sum, keeps int32 sums exact, leaking no tensor', () => {
    const rng = new Rng(4);
    const before = tf.memory().numTensors;
    for (const [shape, axes, keepDims] of SUMS) {
      const x = values(shape, rng);
      const got = tf.tidy(() => {
        const y = tf.sum(tf.tensor(x, shape), axes, keepDims);
        return { shape: y.shape, values: y.dataSync() };
      });
      const expectedShape = keepDims ? shape.map((d, a) => (axes.includes(a) ? 1 : d)) : shape.filter((_, a) => !axes.includes(a));
      expect(got.shape).toEqual(expectedShape);
      // Reference: the double-precision sum over the reduced axes (through the cpu backend's layout: reduced axes moved first).
      const perm = [...axes, ...shape.map((_, a) => a).filter((a) => !axes.includes(a))];
      const moved = tf.tidy(() => tf.transpose(tf.tensor(x, shape), perm).dataSync());
      const rows = axes.reduce((p, a) => p * shape[a]!, 1);
      const reference = columnSums(moved as Float32Array, rows, x.length / rows);
      reference.forEach((r, j) => expect(Math.abs(got.values[j]! - r)).toBeLessThan(2e-6 * Math.max(1, Math.sqrt(rows))));
    }
    const ints = tf.tidy(() => tf.sum(tf.tensor([[1, 2], [3, 4], [5, 6]], [3, 2], 'int32'), 0).arraySync());
    expect(ints).toEqual([9, 12]);
    expect(tf.memory().numTensors).toBe(before);
  });

});

describe('fused LayerNorm on wasm: the SIMD module on the heap against the JS loops (cpu backend)', () => {
  /** Forward and backward kernel outputs for [rows, dim] on the active backend. */
  function run(rows: number, dim: number): number[][] {
    const rng = new Rng(dim);
    return tf.tidy(() => {
      const x = tf.tensor(Float32Array.from({ length: rows * dim }, (_, i) => rng.uniform(-2, 2) + (i % 5) * 0.3), [rows, dim]);
      const gamma = tf.tensor(values([dim], rng), [dim]);
      const beta = tf.tensor(values([dim], rng), [dim]);
      const dy = tf.tensor(values([rows, dim], rng), [rows, dim]);
      const [y, mean, rstd] = tf.engine().runKernel(LAYER_NORM_KERNEL, { x, gamma, beta }, { eps: 1e-6 }) as tf.Tensor[];
      const grads = tf.engine().runKernel(LAYER_NORM_GRAD_KERNEL, { dy, x, gamma, mean: mean!, rstd: rstd! }, {}) as tf.Tensor[];
      return [y!, mean!, rstd!, ...grads].map((t) => Array.from(t.dataSync()));
    });
  }

  it('agrees to float32 rounding for row lengths with and without a remainder of 4, leaking no tensor', async () => {
    const shapes: [number, number][] = [[37, 96], [9, 23], [5, 7], [3, 1], [17, 64]];
    await setupBackend('cpu');
    const expected = shapes.map(([r, d]) => run(r, d));
    await setupBackend('wasm');
    const before = tf.memory().numTensors;
    const got = shapes.map(([r, d]) => run(r, d));
    expect(tf.memory().numTensors).toBe(before);
    got.forEach((outputs, s) =>
      outputs.forEach((o, k) => {
        const e = expected[s]![k]!;
        expect(o.length).toBe(e.length);
        // The same double arithmetic, summed in a different order (two SIMD lanes): at most an ulp or two of float32 apart.
        o.forEach((v, i) => expect(Math.abs(v - e[i]!)).toBeLessThanOrEqual(4e-7 * Math.max(1, Math.abs(e[i]!))));
      }),
    );
  });

});

describe('modules that run on the backend memory: committed bytes', () => {
  it.each([
    ['heap_kernels', HEAP_KERNELS_WASM_BASE64, HEAP_KERNELS_SHARED_WASM_BASE64],
    ['layer_norm', LAYER_NORM_WASM_BASE64, LAYER_NORM_SHARED_WASM_BASE64],
    ['adamw', ADAMW_WASM_BASE64, ADAMW_SHARED_WASM_BASE64],
    ['attention', ATTENTION_WASM_BASE64, ATTENTION_SHARED_WASM_BASE64],
  ])('%s.wat compiled, unshared and shared (run build:wasm after editing it)', async (name, plain, shared) => {
    const wat = readFileSync(new URL(`../src/backends/wasm/${name}.wat`, import.meta.url), 'utf8');
    const variants = watVariants(wat) as [string, string][];
    expect(variants.map(([suffix]) => suffix)).toEqual(['', '_shared']);
    const bytes = await Promise.all(variants.map(async ([, text]) => Buffer.from((await compileWat(`${name}.wat`, text)) as Uint8Array).toString('base64')));
    expect(bytes).toEqual([plain, shared]);
  });
});

/**
 * Batched products item by item on XNNPACK vs the SIMD module, alternated in
 * one process (ViT forward at batch 1 on wasm), so both paths see the same
 * machine load. Prints the median ms of each and their ratio.
 *
 *   node --conditions=@vitkit/source --import tsx apps/trainer/src/bench/sliced_matmul_ab.ts [preset] [rounds]
 */
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '@vitkit/core';
import { createViT } from '@vitkit/vit';
import { SLICED_MIN_WORK, wasmMatMulTuning } from '../../../../packages/core/src/backends/wasm/batch_matmul.js';

const preset = process.argv[2] ?? 'vit_tiny_patch16_224';
const rounds = Number(process.argv[3] ?? 10);
await setupBackend('wasm');
const model = createViT(preset);
const size = model.config.imageSize;
const [height, width] = Array.isArray(size) ? size : [size, size];
const x = tf.randomUniform([1, height, width, 3]);

function timeForward(): number {
  const start = performance.now();
  tf.tidy(() => model.forward(x).logits.dataSync());
  return performance.now() - start;
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const times: Record<'sliced' | 'simd', number[]> = { sliced: [], simd: [] };
for (const mode of ['sliced', 'simd'] as const) {
  wasmMatMulTuning.slicedMinWork = mode === 'sliced' ? SLICED_MIN_WORK : Infinity;
  timeForward(); // warm-up: XNNPACK operators, kernels
}
for (let i = 0; i < rounds; i++) {
  for (const mode of i % 2 ? (['simd', 'sliced'] as const) : (['sliced', 'simd'] as const)) {
    wasmMatMulTuning.slicedMinWork = mode === 'sliced' ? SLICED_MIN_WORK : Infinity;
    times[mode].push(timeForward());
  }
}
const sliced = median(times.sliced);
const simd = median(times.simd);
console.log(`${preset} b1 wasm, ${rounds} alternated rounds: item by item on XNNPACK ${sliced.toFixed(1)} ms, SIMD module ${simd.toFixed(1)} ms (median); speed-up ${(simd / sliced).toFixed(2)}x; load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);

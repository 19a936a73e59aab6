// Throughput of decode + resize + normalize into 224x224 batches:
// chelsea.png (451x300) x 32 per batch, each preset, typed-array and tfjs paths.
// Run: npx -y pnpm@10 --filter @vitkit/preprocessing bench
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '@vitkit/core';
import { decodeImage, decodeImageSync, preprocessBatch, preprocessBatchTensor, presetSpec, type Image8 } from '../src/index.js';

const BATCH = 32;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const here = dirname(fileURLToPath(import.meta.url));
const png = new Uint8Array(readFileSync(join(here, '../../../fixtures/reference/preprocess-chelsea/chelsea.png')));

async function time(label: string, run: () => void | Promise<void>): Promise<void> {
  await run(); // warm-up (JIT, weight caches, backend kernels)
  const t0 = performance.now();
  for (let r = 0; r < ROUNDS; r++) await run();
  const seconds = (performance.now() - t0) / 1000;
  const perSecond = (ROUNDS * BATCH) / seconds;
  console.log(`${label.padEnd(52)} ${perSecond.toFixed(1).padStart(8)} images/s  (${((seconds / ROUNDS) * 1000).toFixed(0)} ms per batch of ${BATCH})`);
}

await decodeImage(png); // compiles nothing for PNG, but keeps the decode path warm
console.log(`node ${process.version}, ${BATCH} x chelsea.png 451x300 -> [${BATCH}, 224, 224, 3], ${ROUNDS} rounds after warm-up\n`);

await time('decode only (fast-png)', () => {
  for (let i = 0; i < BATCH; i++) decodeImageSync(png);
});
const decoded: Image8[] = Array.from({ length: BATCH }, () => decodeImageSync(png));
for (const preset of ['timm', 'hf', 'torchvision'] as const) {
  const spec = presetSpec(preset);
  await time(`${preset}: decode+resize+normalize, typed arrays`, () => {
    preprocessBatch(Array.from({ length: BATCH }, () => decodeImageSync(png)), spec);
  });
  await time(`${preset}: resize+normalize only, typed arrays`, () => {
    preprocessBatch(decoded, spec);
  });
}
for (const backend of ['cpu', 'wasm'] as const) {
  await setupBackend(backend);
  for (const preset of ['timm', 'hf'] as const) {
    const spec = presetSpec(preset);
    await time(`${preset}: decode+resize+normalize, tfjs ${backend}`, () => {
      const t = preprocessBatchTensor(Array.from({ length: BATCH }, () => decodeImageSync(png)), spec);
      t.dataSync();
      t.dispose();
    });
  }
}
console.log(`\ntensors alive at the end: ${tf.memory().numTensors}`);

import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '@vitkit/core';
import { decodeImage, preprocess, preprocessBatch, preprocessBatchTensor, preprocessTensor, presetSpec, type DecodedImage } from '../src/index.js';
import { CHELSEA_VARIANTS, diffStats, fixtureBytes, fixtureNpy, REFERENCE_DIR, toLevels } from './helpers.js';

// Acceptance: each preset, taken back to pixel units, within 1 level everywhere
// and below 0.1 level on average of what Python (Pillow + torchvision) produced.
describe('presets against fixtures/reference/preprocess-chelsea', () => {
  let chelsea: DecodedImage;
  beforeAll(async () => {
    await setupBackend('cpu');
    chelsea = await decodeImage(fixtureBytes(join(REFERENCE_DIR, 'chelsea.png')));
  });

  it('decodes chelsea.png at its manifest size', () => {
    const manifest = JSON.parse(new TextDecoder().decode(fixtureBytes(join(REFERENCE_DIR, 'manifest.json')))) as { image_size_wh: [number, number] };
    expect([chelsea.width, chelsea.height]).toEqual(manifest.image_size_wh);
    expect(chelsea.channels).toBe(3);
  });

  for (const v of CHELSEA_VARIANTS) {
    it(`${v.preset}: typed-array path matches ${v.file}`, () => {
      const ref = fixtureNpy(join(REFERENCE_DIR, v.file));
      const out = preprocess(chelsea, presetSpec(v.preset));
      expect(out.shape).toEqual(ref.shape);
      const d = diffStats(toLevels(out.data, v.mean, v.std), toLevels(ref.data, v.mean, v.std));
      expect(d.max).toBeLessThanOrEqual(1);
      expect(d.mean).toBeLessThan(0.1);
      // Pillow-exact resize makes this bit-for-bit in practice; keep the float check tight too.
      expect(diffStats(out.data, ref.data).max).toBeLessThan(1e-5);
    });

    it(`${v.preset}: tfjs path (cpu) matches ${v.file} and leaks no tensors`, () => {
      const ref = fixtureNpy(join(REFERENCE_DIR, v.file));
      const before = tf.memory().numTensors;
      const t = preprocessTensor(chelsea, presetSpec(v.preset));
      expect(t.shape).toEqual(ref.shape);
      const data = t.dataSync();
      t.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const d = diffStats(toLevels(data, v.mean, v.std), toLevels(ref.data, v.mean, v.std));
      expect(d.max).toBeLessThanOrEqual(1);
      expect(d.mean).toBeLessThan(0.1);
    });
  }

  it('batches mixed-size inputs into NHWC on both paths', () => {
    const spec = presetSpec('timm');
    const small = { data: chelsea.data.slice(0, 100 * 80 * 3), width: 100, height: 80, channels: 3 };
    const batch = preprocessBatch([chelsea, small], spec);
    expect(batch.shape).toEqual([2, 224, 224, 3]);
    const ref = fixtureNpy(join(REFERENCE_DIR, 'timm_vit_224.npy'));
    expect(diffStats(batch.data.subarray(0, ref.data.length), ref.data).max).toBeLessThan(1e-5);
    const before = tf.memory().numTensors;
    const t = preprocessBatchTensor([chelsea, small], spec);
    expect(t.shape).toEqual([2, 224, 224, 3]);
    expect(diffStats(t.dataSync(), batch.data).max).toBeLessThan(1e-5);
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('tfjs path also matches on the wasm backend', async () => {
    await setupBackend('wasm');
    try {
      const v = CHELSEA_VARIANTS[1];
      const ref = fixtureNpy(join(REFERENCE_DIR, v.file));
      const t = preprocessTensor(chelsea, presetSpec(v.preset));
      const d = diffStats(toLevels(t.dataSync(), v.mean, v.std), toLevels(ref.data, v.mean, v.std));
      t.dispose();
      expect(d.max).toBeLessThanOrEqual(1);
      expect(d.mean).toBeLessThan(0.1);
    } finally {
      await setupBackend('cpu');
    }
  });
});

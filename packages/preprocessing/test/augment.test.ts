import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Rng } from '@vitkit/core';
import {
  augment,
  augmentForModel,
  autoAugment,
  decodeImage,
  mixupCutmix,
  policyOps,
  preprocessBatch,
  presetSpec,
  randomResizedCropBox,
  sampleBeta,
  type Image8,
} from '../src/index.js';
import { fixtureBytes, REFERENCE_DIR } from './helpers.js';

const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => v === b[i]);

describe('augmentation is seeded and reproducible', () => {
  let chelsea: Image8;
  beforeAll(async () => {
    chelsea = await decodeImage(fixtureBytes(join(REFERENCE_DIR, 'chelsea.png')));
  });

  for (const policy of ['none', 'trivial', 'randaugment'] as const) {
    it(`${policy}: same seed -> identical output, different seeds differ`, () => {
      const options = { size: 64, autoAugment: policy };
      const a = augment(chelsea, new Rng(7), options);
      const b = augment(chelsea, new Rng(7), options);
      expect([a.width, a.height, a.channels]).toEqual([64, 64, 3]);
      expect(same(a.data, b.data)).toBe(true);
      const others = [8, 9, 10].map((s) => augment(chelsea, new Rng(s), options));
      expect(others.some((o) => !same(o.data, a.data))).toBe(true);
    });
  }

  it('every auto-augment op runs for every magnitude bin and keeps the image size', () => {
    const small: Image8 = { data: chelsea.data.slice(0, 32 * 24 * 3), width: 32, height: 24, channels: 3 };
    expect(policyOps('trivial')).toHaveLength(14);
    const rng = new Rng(1);
    for (let i = 0; i < 300; i++) {
      const out = autoAugment(small, rng, { kind: 'randaugment', numOps: 1, magnitude: i % 31 });
      expect([out.width, out.height, out.data.length]).toEqual([32, 24, small.data.length]);
    }
  });

  it('random resized crop follows torchvision: boxes inside the image with scale and ratio in range', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 500; i++) {
      const b = randomResizedCropBox(451, 300, rng);
      expect(b.left >= 0 && b.top >= 0 && b.left + b.width <= 451 && b.top + b.height <= 300).toBe(true);
      const area = (b.width * b.height) / (451 * 300);
      expect(area).toBeGreaterThan(0.07);
      expect(b.width / b.height).toBeGreaterThan(0.74);
      expect(b.width / b.height).toBeLessThan(1.35);
    }
    // Impossible constraints exhaust the 10 tries and fall back to a centered crop clamped to the ratio range:
    // 1000x100 has ratio 10 > 4/3, so h = 100, w = round(100 * 4/3) = 133, left = (1000 - 133) // 2 = 433.
    expect(randomResizedCropBox(1000, 100, new Rng(0), [0.99, 1], [3 / 4, 4 / 3])).toEqual({ top: 0, left: 433, height: 100, width: 133 });
  });

  it('augmentForModel normalizes like the eval preset', () => {
    const spec = presetSpec('timm');
    const out = augmentForModel(chelsea, new Rng(5), { size: 32, hflip: 0, rescale: spec.rescale, mean: spec.mean, std: spec.std });
    expect(out.shape).toEqual([32, 32, 3]);
    expect(Math.min(...out.data)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...out.data)).toBeLessThanOrEqual(1);
  });

  it('rejects bad options with ConfigErrors', () => {
    expect(() => augment(chelsea, new Rng(0), { size: 0 })).toThrow(ConfigError);
    expect(() => augment(chelsea, new Rng(0), { size: 8, hflip: 2 })).toThrow(/hflip/);
    expect(() => augment(chelsea, new Rng(0), { size: 8, scale: [0.5, 0.1] })).toThrow(/scale/);
  });
});

describe('mixup and cutmix', () => {
  function batch(n: number): { data: Float32Array; shape: number[] } {
    const data = new Float32Array(n * 8 * 8 * 3);
    for (let i = 0; i < n; i++) data.fill(i + 1, i * 192, (i + 1) * 192);
    return { data, shape: [n, 8, 8, 3] };
  }
  const labels = [0, 3, 1, 4];

  it('targets sum to 1 per sample and combine the sample with its mirror in the batch', () => {
    const rng = new Rng(11);
    const modes = new Set<string>();
    for (let trial = 0; trial < 40; trial++) {
      const r = mixupCutmix(batch(4), labels, 5, rng);
      modes.add(r.mode);
      for (let i = 0; i < 4; i++) {
        const row = r.targets.subarray(i * 5, i * 5 + 5);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
        // Label smoothing 0.1 over 5 classes: off = 0.02, own label gets 0.92 * lambda on top of off.
        expect(row[labels[i]!]! - 0.02).toBeGreaterThanOrEqual(0.9 * r.lambda - 1e-6);
      }
      if (r.mode === 'mixup') {
        // Sample 0 = lambda * 1 + (1 - lambda) * 4 everywhere.
        expect(r.images.data[0]).toBeCloseTo(r.lambda * 1 + (1 - r.lambda) * 4, 5);
      }
      if (r.mode === 'cutmix') {
        // lambda is corrected to the area that kept sample 0's own pixels (value 1).
        const own = Array.from(r.images.data.subarray(0, 192)).filter((v) => v === 1).length / 192;
        expect(own).toBeCloseTo(r.lambda, 6);
      }
    }
    expect(modes).toEqual(new Set(['mixup', 'cutmix']));
  });

  it('is reproducible per seed and leaves the input untouched', () => {
    const input = batch(4);
    const copy = input.data.slice();
    const a = mixupCutmix(input, labels, 5, new Rng(2));
    const b = mixupCutmix(input, labels, 5, new Rng(2));
    expect(same(a.images.data, b.images.data) && same(a.targets, b.targets)).toBe(true);
    expect(same(input.data, copy)).toBe(true);
  });

  it('works on preprocessed batches and validates labels', async () => {
    const chelsea = await decodeImage(fixtureBytes(join(REFERENCE_DIR, 'chelsea.png')));
    const b = preprocessBatch([chelsea, chelsea], presetSpec('hf'));
    expect(mixupCutmix(b, [0, 1], 2, new Rng(0), { labelSmoothing: 0 }).targets.length).toBe(4);
    expect(() => mixupCutmix(batch(2), [0, 9], 5, new Rng(0))).toThrow(/label 9/);
    expect(() => mixupCutmix(batch(2), [0], 5, new Rng(0))).toThrow(/1 labels for 2/);
  });

  it('Beta sampling has the right mean', () => {
    const rng = new Rng(4);
    let sum = 0;
    for (let i = 0; i < 4000; i++) sum += sampleBeta(rng, 0.8, 0.8);
    expect(sum / 4000).toBeCloseTo(0.5, 1);
    let sum2 = 0;
    for (let i = 0; i < 4000; i++) sum2 += sampleBeta(rng, 2, 6);
    expect(sum2 / 4000).toBeCloseTo(0.25, 1);
  });
});

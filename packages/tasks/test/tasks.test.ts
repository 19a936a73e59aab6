// The task layer against Pillow + torch references (fixtures/reference/task-layer, made by make.py there).
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '@vitkit/core';
import { decodeImage } from '@vitkit/preprocessing';
import { cosineSimilarity, loadImageClassifier, loadImageEmbedder, type ImageClassifier, type ImageEmbedder } from '../src/index.js';
import { maxDiff, ROOT } from './helpers.js';

const REF = join(ROOT, 'fixtures/reference/task-layer');
const MODEL = join(REF, 'model');
const PNG = join(ROOT, 'fixtures/reference/preprocess-chelsea/chelsea.png');
const JPG = join(REF, 'chelsea_crop.jpg');
interface Expected {
  labels: string[];
  images: { file: string; logits: number[]; probabilities: number[]; features: number[] }[];
}
const expected = JSON.parse(readFileSync(join(REF, 'expected.json'), 'utf8')) as Expected;

function modelDir(files: Record<string, string | null>): string {
  const dir = mkdtempSync(join(tmpdir(), 'vitkit-tasks-'));
  copyFileSync(join(MODEL, 'model.safetensors'), join(dir, 'model.safetensors'));
  for (const name of ['config.json', 'preprocessor_config.json']) {
    if (files[name] === null) continue;
    writeFileSync(join(dir, name), files[name] ?? readFileSync(join(MODEL, name), 'utf8'));
  }
  return dir;
}

describe('image classifier', () => {
  let classifier: ImageClassifier;
  beforeAll(async () => {
    await setupBackend('cpu');
    classifier = await loadImageClassifier(MODEL);
  });
  afterAll(() => classifier.dispose());

  it('classifies a PNG and a JPEG from a model directory as Pillow + torch do (1e-4)', async () => {
    const results = await classifier.classify([PNG, JPG], { topK: 10 });
    for (const [i, top] of results.entries()) {
      const ref = expected.images[i]!;
      const probs = new Array<number>(10);
      for (const t of top) {
        probs[t.index] = t.probability;
        expect(t.label).toBe(expected.labels[t.index]);
      }
      const d = maxDiff(probs, ref.probabilities);
      console.log(`classify ${ref.file}: max |p - p_ref| = ${d.toExponential(2)}`);
      expect(d).toBeLessThan(1e-4);
      expect(top[0]!.probability).toBe(Math.max(...top.map((t) => t.probability)));
    }
  });

  it('takes one image and gives its top-k list; every input form gives the same classes', async () => {
    const one = await classifier.classify(PNG, { topK: 3 });
    expect(one).toHaveLength(3);
    const bytes = new Uint8Array(readFileSync(PNG));
    const pixels = await decodeImage(bytes);
    const imageData = { data: new Uint8ClampedArray(pixels.data.length / 3 * 4).map((_, i) => (i % 4 === 3 ? 255 : pixels.data[(i >> 2) * 3 + (i % 4)]!)), width: pixels.width, height: pixels.height };
    const tensor = tf.tensor3d(pixels.data, [pixels.height, pixels.width, 3], 'int32');
    const forms = [bytes, bytes.buffer, new Blob([bytes]), pixels, imageData, tensor, new URL(`file://${PNG}`).pathname];
    const all = await classifier.classify(forms, { topK: 3 });
    tensor.dispose();
    for (const r of all) expect(r.map((t) => [t.index, t.probability.toFixed(6)])).toEqual(one.map((t) => [t.index, t.probability.toFixed(6)]));
  });

  it('a [B, H, W, C] tensor counts as B images', async () => {
    const pixels = await decodeImage(new Uint8Array(readFileSync(PNG)));
    const batch = tf.tensor4d(new Uint8Array([...pixels.data, ...pixels.data]), [2, pixels.height, pixels.width, 3], 'int32');
    const r = await classifier.classify([batch, PNG]);
    batch.dispose();
    expect(r).toHaveLength(3);
  });
});

describe('image embedder', () => {
  let embedder: ImageEmbedder;
  beforeAll(async () => {
    await setupBackend('cpu');
    embedder = await loadImageEmbedder(MODEL);
  });
  afterAll(() => embedder.dispose());

  it('gives the pre-logits features of a PNG and a JPEG (1e-4), one per image, in order', async () => {
    const [a, b] = await embedder.embed([PNG, JPG]);
    for (const [i, v] of [a!, b!].entries()) {
      const d = maxDiff(v, expected.images[i]!.features);
      console.log(`embed ${expected.images[i]!.file}: max |f - f_ref| = ${d.toExponential(2)}`);
      expect(d).toBeLessThan(1e-4);
    }
  });

  it('normalizes, pools on request, and compares by cosine similarity', async () => {
    const [a, b] = await embedder.embed([PNG, JPG], { normalize: true });
    expect(Math.hypot(...a!)).toBeCloseTo(1, 5);
    const ref = cosineSimilarity(expected.images[0]!.features, expected.images[1]!.features);
    expect(Math.abs(cosineSimilarity(a!, b!) - ref)).toBeLessThan(1e-4);
    expect(cosineSimilarity(a!, a!)).toBeCloseTo(1, 6);
    const [cls] = await embedder.embed(PNG, { pooling: 'cls' });
    expect(maxDiff(cls!, expected.images[0]!.features)).toBeLessThan(1e-4); // class-token model: the same vector
    const [tokens] = await embedder.embed(PNG, { pooling: 'tokens' });
    expect(tokens!.length).toBe(17 * 32);
    const [mean] = await embedder.embed(PNG, { pooling: 'mean' });
    expect(mean!.length).toBe(32);
    await expect(embedder.embed(PNG, { pooling: 'max' as never })).rejects.toThrow(/unknown pooling/);
  });
});

describe('bad sources', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('a model without config.json', async () => {
    await expect(loadImageClassifier(modelDir({ 'config.json': null }))).rejects.toThrow(/no config\.json found/);
  });

  it('no preprocessing known, unless a preset is given', async () => {
    const dir = modelDir({ 'preprocessor_config.json': null });
    await expect(loadImageClassifier(dir)).rejects.toMatchObject({ code: 'E_NO_PREPROCESSING' });
    const c = await loadImageClassifier(dir, { preprocess: 'hf' });
    expect(c.spec?.resize).toBeDefined();
    c.dispose();
  });

  it('labels in a form it cannot read', async () => {
    const config = JSON.parse(readFileSync(join(MODEL, 'config.json'), 'utf8')) as Record<string, unknown>;
    const bad = modelDir({ 'config.json': JSON.stringify({ ...config, id2label: expected.labels }) });
    await expect(loadImageClassifier(bad)).rejects.toThrow(/id2label|label/);
  });

  it('an input that is not an image', async () => {
    const c = await loadImageClassifier(MODEL);
    await expect(c.classify(new TextEncoder().encode('hello, not an image'))).rejects.toThrow(/not an image/);
    await expect(c.classify(42 as never)).rejects.toThrow(/cannot read an image/);
    c.dispose();
  });

  it('does not leak tensors', async () => {
    const c = await loadImageClassifier(MODEL);
    const before = tf.memory().numTensors;
    await c.classify([PNG, JPG]);
    expect(tf.memory().numTensors).toBe(before);
    c.dispose();
  });
});

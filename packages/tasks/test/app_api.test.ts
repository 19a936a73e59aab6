// What apps (the web demo first) need from the task layer: picked or dropped files sorted by
// content, a fallback preprocessing, per-call preprocessing with the pixels the model saw,
// sharing one loaded model between tasks, and similarity matrices.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '@vitkit/core';
import { decodeImage, prepareGeometry, presetSpec } from '@vitkit/preprocessing';
import { ImageEmbedder, loadImageClassifier, nearestNeighbours, similarityMatrix, cosineSimilarity, sortModelFiles, ModelSourceError } from '../src/index.js';
import { maxDiff, ROOT } from './helpers.js';

const REF = join(ROOT, 'fixtures/reference/task-layer');
const MODEL = join(REF, 'model');
const MICRO = join(ROOT, 'fixtures/reference/vit-micro');
const PNG = join(ROOT, 'fixtures/reference/preprocess-chelsea/chelsea.png');
const JPG = join(REF, 'chelsea_crop.jpg');
const expected = JSON.parse(readFileSync(join(REF, 'expected.json'), 'utf8')) as { images: { probabilities: number[]; features: number[] }[] };

/** A File as a browser gives it, with the path inside a dropped folder when given. */
function file(path: string, name: string, folderPath?: string): File {
  const f = new File([readFileSync(path)], name);
  if (folderPath) Object.defineProperty(f, 'webkitRelativePath', { value: folderPath });
  return f;
}

beforeAll(async () => {
  await setupBackend('cpu');
});

describe('files a user picked or dropped', () => {
  it('a dropped folder: JSON sorted by content under any name, other files left alone, same numbers as the directory', async () => {
    const files = [
      file(join(MODEL, 'model.safetensors'), 'model.safetensors', 'vit/model.safetensors'),
      file(join(MODEL, 'config.json'), 'my-config.json', 'vit/my-config.json'),
      file(join(MODEL, 'preprocessor_config.json'), 'pre.json', 'vit/pre.json'),
      new File(['# a model card'], 'README.md'),
      new File(['{"bos_token_id": 0}'], 'generation_config.json'),
      new File([new Uint8Array(8)], 'pytorch_model.bin'),
    ];
    const sorted = await sortModelFiles(files);
    expect(Object.keys(sorted.sidecars).sort()).toEqual(['config.json', 'preprocessor_config.json']);
    expect(sorted.used).toEqual(['vit/model.safetensors', 'vit/my-config.json', 'vit/pre.json']);
    const progress: [number, number | undefined][] = [];
    const classifier = await loadImageClassifier(files, { onProgress: (p) => progress.push([p.loaded, p.total]) });
    try {
      const size = readFileSync(join(MODEL, 'model.safetensors')).length;
      expect(progress).toEqual([
        [0, size],
        [size, size],
      ]);
      expect(classifier.details.preprocessSource).toBe('preprocessor_config.json');
      const [top] = await classifier.classify([PNG], { topK: 10 });
      const probs = new Array<number>(10);
      for (const t of top!) probs[t.index] = t.probability;
      expect(maxDiff(probs, expected.images[0]!.probabilities)).toBeLessThan(1e-4);
    } finally {
      classifier.dispose();
    }
  });

  it('says why unusable files cannot load: a PyTorch pickle alone, two weights files, two configs', async () => {
    const bin = new File([new Uint8Array(8)], 'pytorch_model.bin');
    await expect(sortModelFiles([bin])).rejects.toThrow(/PyTorch pickle/);
    await expect(sortModelFiles([bin])).rejects.toBeInstanceOf(ModelSourceError);
    const weights = file(join(MODEL, 'model.safetensors'), 'a.safetensors');
    await expect(sortModelFiles([weights, file(join(MICRO, 'jax.npz'), 'b.npz')])).rejects.toThrow(/more than one weights file/);
    await expect(sortModelFiles([weights, file(join(MODEL, 'config.json'), 'config.json'), file(join(MICRO, 'hf-config.json'), 'hf-config.json')])).rejects.toThrow(/two files hold a config.json/);
    await expect(sortModelFiles([weights, new File(['{oops'], 'config.json')])).rejects.toThrow(/not valid JSON/);
  });
});

describe('preprocessing for apps', () => {
  it('defaultPreprocess stands in only when the source brings none, and says so', async () => {
    const files = [file(join(MODEL, 'model.safetensors'), 'model.safetensors'), file(join(MODEL, 'config.json'), 'config.json')];
    await expect(loadImageClassifier(files)).rejects.toThrow(/no preprocessor_config.json/);
    const c = await loadImageClassifier(files, { defaultPreprocess: 'hf' });
    expect(c.details.preprocessSource).toBe('defaultPreprocess option');
    expect(c.spec).toEqual(presetSpec('hf', { size: 32 }));
    c.dispose();
    const own = await loadImageClassifier(MODEL, { defaultPreprocess: 'timm' });
    expect(own.details.preprocessSource).toBe('preprocessor_config.json');
    own.dispose();
  });

  it('prepare() gives the batch and the 8-bit pixels the model saw; a per-call preprocess overrides the model’s', async () => {
    const c = await loadImageClassifier(MODEL);
    try {
      const decoded = await decodeImage(new Uint8Array(readFileSync(JPG)));
      const own = await c.prepare([JPG, PNG]);
      expect(own.batch.shape).toEqual([2, 32, 32, 3]);
      expect(own.sourceSizes[0]).toEqual({ width: 321, height: 241 });
      expect(own.views[0]).toEqual(prepareGeometry(decoded, c.spec!));
      // The batch is the view normalized with mean = std = 0.5: (v / 255 - 0.5) / 0.5.
      const first = own.batch.dataSync().slice(0, 3);
      expect(maxDiff(first, [...own.views[0]!.data.slice(0, 3)].map((v) => (v / 255 - 0.5) / 0.5))).toBeLessThan(1e-6);
      own.batch.dispose();
      const timm = await c.prepare(JPG, { preprocess: 'timm' });
      expect(timm.views[0]).toEqual(prepareGeometry(decoded, presetSpec('timm', { size: 32 })));
      expect(timm.views[0]).not.toEqual(prepareGeometry(decoded, c.spec!));
      timm.batch.dispose();
      const top = await c.classify(JPG, { topK: 1, preprocess: { resize: { kind: 'exact', height: 32, width: 32, interpolation: 'bilinear' }, rescale: 1 / 255 } });
      expect(top).toHaveLength(1);
    } finally {
      c.dispose();
    }
  });
});

describe('one model, several tasks', () => {
  it('ImageEmbedder.from(classifier) shares the weights and gives the pre-logits features (1e-4)', async () => {
    const classifier = await loadImageClassifier(MODEL);
    const before = tf.memory().numTensors;
    const embedder = ImageEmbedder.from(classifier);
    expect(tf.memory().numTensors).toBe(before);
    expect(embedder.model).toBe(classifier.model);
    const [a, b] = await embedder.embed([PNG, JPG]);
    expect(maxDiff(a!, expected.images[0]!.features)).toBeLessThan(1e-4);
    expect(maxDiff(b!, expected.images[1]!.features)).toBeLessThan(1e-4);
    expect(tf.memory().numTensors).toBe(before);
    classifier.dispose();
  });
});

describe('similarity', () => {
  it('matrix of cosine similarities: symmetric, 1 on the diagonal, each entry cosineSimilarity', () => {
    const v = [Float32Array.of(1, 0, 0), Float32Array.of(1, 1, 0), Float32Array.of(0, 0, 2), Float32Array.of(-1, 0, 0)];
    const m = similarityMatrix(v);
    expect(m.map((r, i) => r[i])).toEqual([1, 1, 1, 1]);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(m[i]![j]).toBe(m[j]![i]);
    expect(m[0]![1]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(m[0]![3]).toBe(-1);
    expect(m[1]![2]).toBe(cosineSimilarity(v[1]!, v[2]!));
    expect(nearestNeighbours(m)).toEqual([
      { index: 1, similarity: m[0]![1] },
      { index: 0, similarity: m[1]![0] },
      { index: 0, similarity: 0 },
      { index: 2, similarity: 0 },
    ]);
    expect(nearestNeighbours(similarityMatrix([Float32Array.of(1)]))[0]!.index).toBe(-1);
  });
});

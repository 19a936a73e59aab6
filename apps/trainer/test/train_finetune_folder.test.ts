// `vit train --weights <model dir> --data <ImageFolder>` (issue 29): the run directory is a model
// directory (labels = the class folder names, the source's preprocessing) that the task layer and
// `vit predict` load directly, and training inputs are preprocessed as the task layer does it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '@vitkit/core';
import { loadImageClassifier } from '@vitkit/tasks';
import { gatherPixels, loadDataset, loadIdxPair } from '@vitkit/training';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGrayPng } from '../../web-demo/scripts/png.js';
import { ROOT, vitCommand as vit } from './helpers/predict_cli.js';

const MODEL = join(ROOT, 'apps', 'web-demo', 'public', 'models', 'fashion-mnist');
const SUBSET = join(ROOT, 'data', 'fashion-mnist-subset');
/** Folder name → Fashion-MNIST label: sorted, the folders are bag (0), sneaker (1), trouser (2). */
const CLASSES: Record<string, number> = { trouser: 1, sneaker: 7, bag: 8 };
const PER_CLASS = 6;

const tmp = mkdtempSync(join(tmpdir(), 'vit-finetune-folder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await setupBackend('cpu');
});

/** 28x28 gray pixels stretched to 56 wide (nearest): another size and aspect than the model's (squashed back by its resize, not cropped). */
function widened(p: Uint8Array): Uint8Array {
  return Uint8Array.from({ length: 28 * 56 }, (_, i) => p[Math.floor(i / 56) * 28 + Math.floor((i % 56) / 2)]!);
}

/** The first PER_CLASS test images of each class as PNGs in <root>/<class>/; the first bag is 56x28. Returns the files. */
function writeFolder(root: string): string[] {
  const test = loadIdxPair(join(SUBSET, 't10k-images-idx3-ubyte.gz'), join(SUBSET, 't10k-labels-idx1-ubyte.gz'), { name: 'subset', numClasses: 10 });
  const files: string[] = [];
  for (const [name, label] of Object.entries(CLASSES)) {
    mkdirSync(join(root, name), { recursive: true });
    let n = 0;
    for (let i = 0; i < test.shape[0] && n < PER_CLASS; i++) {
      if (test.labels[i] !== label) continue;
      const pixels = test.images.subarray(i * 784, (i + 1) * 784) as Uint8Array;
      const big = name === 'bag' && n === 0;
      const file = join(root, name, `${n}.png`);
      writeFileSync(file, big ? encodeGrayPng(widened(pixels), 56, 28) : encodeGrayPng(pixels, 28, 28));
      files.push(file);
      n++;
    }
  }
  return files;
}

describe('vit train --weights <model dir> --data <ImageFolder>', () => {
  const data = join(tmp, 'clothes');
  const out = join(tmp, 'run');
  let files: string[] = [];
  beforeAll(() => {
    files = writeFolder(data);
  });

  it('fine-tunes into a model directory: labels from the folders, the source preprocessing, loaded alike by the task layer and vit predict', async () => {
    const r = vit('train', '--weights', MODEL, '--data', data, '--freeze', 'backbone', '--steps', '3', '--batch-size', '6', '--lr', '0.01', '--val-split', '0', '--workers', '1', '--backend', 'cpu', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    // The class count came from the three folders (no --num-classes): a fresh 3-way head.
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    const labels = config['labels'] ?? Object.values((config['id2label'] as Record<string, string> | undefined) ?? {});
    expect(labels).toEqual(['bag', 'sneaker', 'trouser']);
    // The run preprocesses as the source model does: its preprocessor_config.json, repeated.
    expect(JSON.parse(readFileSync(join(out, 'preprocessor_config.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(join(MODEL, 'preprocessor_config.json'), 'utf8')));

    const classifier = await loadImageClassifier(out, { onNote: () => {} });
    try {
      expect(classifier.labels).toEqual(['bag', 'sneaker', 'trouser']);
      const ours = await classifier.predict(files.map((f) => readFileSync(f)));
      const p = vit('predict', ...files, '--weights', out, '--backend', 'cpu', '--top', '3', '--json');
      expect(p.code, p.stderr).toBe(0);
      const theirs = (JSON.parse(p.stdout) as { results: { top: { label: string; probability: number }[] }[] }).results;
      expect(theirs).toHaveLength(files.length);
      for (const [i, t] of theirs.entries()) {
        expect(t.top.map((c) => c.label).sort()).toEqual(['bag', 'sneaker', 'trouser']);
        for (const c of t.top) expect(Math.abs(c.probability - ours[i]!.top.find((o) => o.label === c.label)!.probability)).toBeLessThan(1e-5);
      }
    } finally {
      classifier.dispose();
    }
  });

  it("makes training inputs as the task layer preprocesses the files (one 56x28 image among 28x28 ones), to 1e-5", async () => {
    const before = tf.memory().numTensors;
    const classifier = await loadImageClassifier(MODEL, { onNote: () => {} });
    try {
      const ds = (await loadDataset(data, { preprocess: classifier.spec!, channels: 1 })).train;
      expect(ds.shape).toEqual([3 * PER_CLASS, 28, 28, 1]);
      // Files in label order: bag/0..5 (bag/0 is the 56x28 one), sneaker/..., trouser/...
      const sorted = [...files].sort();
      const a = gatherPixels(ds, Array.from({ length: ds.shape[0] }, (_, i) => i));
      const expected = await classifier.preprocess(sorted.map((f) => readFileSync(f)));
      const b = expected.dataSync();
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      expect(worst).toBeLessThan(1e-5);
      // Not vacuous: the inputs span the normalized range.
      expect(Math.max(...a) - Math.min(...a)).toBeGreaterThan(2);
      expected.dispose();
    } finally {
      classifier.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

// `vit train --weights <model dir> --data <ImageFolder>` (issue 29): the run directory is a model
// directory (labels = the class folder names, the source's preprocessing) that the task layer and
// `vit predict` load directly, and training inputs are preprocessed as the task layer does it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setupBackend } from '@vitkit/core';
import { loadImageClassifier } from '@vitkit/tasks';
import { defaultFolderPreprocessing, gatherPixels, loadDataset, loadIdxPair } from '@vitkit/training';
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
    const train = (dir: string, ...more: string[]): void => {
      const r = vit('train', ...more, '--out', dir, '--workers', '1', '--backend', 'cpu', '--json');
      expect(r.code, r.stderr).toBe(0);
    };
    const flags = ['--weights', MODEL, '--data', data, '--freeze', 'backbone', '--batch-size', '6', '--lr', '0.01', '--schedule', 'constant', '--warmup', '0', '--val-split', '0', '--log-every', '1'];
    // 2 steps, then resumed to 4: the same losses as 4 straight (the resumed run preprocesses as it started).
    train(out, ...flags, '--steps', '2');
    train(out, '--resume', out, '--steps', '4');
    const straight = join(tmp, 'straight');
    train(straight, ...flags, '--steps', '4');
    const losses = (dir: string): number[] =>
      readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; loss?: number })
        .filter((m) => m.type === 'step')
        .map((m) => m.loss!);
    const [resumed, uninterrupted] = [losses(out), losses(straight)];
    expect(resumed).toHaveLength(4);
    resumed.forEach((l, i) => expect(Math.abs(l - uninterrupted[i]!)).toBeLessThan(1e-5));
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

  it('from scratch on a folder, the run states the default geometry (shorter side, center crop): the task layer makes the training inputs', async () => {
    const config = join(tmp, 'tiny.json');
    writeFileSync(config, JSON.stringify({ imageSize: 16, patchSize: 8, inChannels: 3, embedDim: 8, depth: 1, numHeads: 2, mlpDim: 16 }));
    const scratch = join(tmp, 'scratch');
    const r = vit('train', '--config', config, '--data', data, '--steps', '1', '--batch-size', '6', '--val-split', '0', '--workers', '1', '--backend', 'cpu', '--out', scratch, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(scratch, 'preprocessor_config.json'), 'utf8'))).toEqual(defaultFolderPreprocessing([16, 16]));
    const before = tf.memory().numTensors;
    const classifier = await loadImageClassifier(scratch, { onNote: () => {} });
    try {
      const ds = (await loadDataset(data, { imageSize: [16, 16] })).train;
      const a = gatherPixels(ds, Array.from({ length: ds.shape[0] }, (_, i) => i));
      const expected = await classifier.preprocess([...files].sort().map((f) => readFileSync(f)));
      const b = expected.dataSync();
      expected.dispose();
      // The 56x28 image (first) is cropped, not squashed, on both sides.
      expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))).toBeLessThan(1e-5);
    } finally {
      classifier.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
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

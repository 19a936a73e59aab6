// Issue 28 acceptance: `vit predict` and `vit embed` on a model directory (HF-named weights, config.json
// with id2label, preprocessor_config.json) against Pillow + torch (fixtures/reference/task-layer/make.py).
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeSafetensors } from '@vitkit/weights';
import { ROOT, maxAbsDiff, npy, vitCommand } from './helpers/predict_cli.js';

const REF = 'fixtures/reference/task-layer';
const MODEL = `${REF}/model`;
const IMAGES = ['fixtures/reference/preprocess-chelsea/chelsea.png', `${REF}/chelsea_crop.jpg`];
interface Expected {
  labels: string[];
  images: { file: string; probabilities: number[]; features: number[] }[];
}
const expected = JSON.parse(readFileSync(join(ROOT, REF, 'expected.json'), 'utf8')) as Expected;

const tmp = mkdtempSync(join(tmpdir(), 'vit-task-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the model directory with some files replaced (string) or left out (null). */
function modelDir(name: string, files: Record<string, string | Uint8Array | null>): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['model.safetensors', 'config.json', 'preprocessor_config.json']) {
    const v = files[f];
    if (v === null) continue;
    if (v === undefined) copyFileSync(join(ROOT, MODEL, f), join(dir, f));
    else writeFileSync(join(dir, f), v);
  }
  return dir;
}

describe('vit predict / vit embed on a model directory', () => {
  it('vit predict a.png b.jpg --weights DIR --json: the labels and probabilities of Pillow + torch (1e-4)', () => {
    const r = vitCommand('predict', ...IMAGES, '--weights', MODEL, '--backend', 'cpu', '--json', '--top', '10');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { results: { top: { index: number; label: string; probability: number }[] }[] };
    for (const [i, result] of out.results.entries()) {
      const probs = new Array<number>(10);
      for (const t of result.top) {
        probs[t.index] = t.probability;
        expect(t.label).toBe(expected.labels[t.index]);
      }
      const d = maxAbsDiff(probs, expected.images[i]!.probabilities);
      console.log(`vit predict ${expected.images[i]!.file}: max |p - p_ref| = ${d.toExponential(2)}`);
      expect(d).toBeLessThan(1e-4);
    }
  });

  it('vit embed --out: the pre-logits features (1e-4), one row per image in argument order', () => {
    const out = join(tmp, 'embeddings.npy');
    const r = vitCommand('embed', ...IMAGES, '--weights', MODEL, '--backend', 'cpu', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const e = npy(out);
    expect(e.shape).toEqual([2, 32]);
    for (const [i, ref] of expected.images.entries()) {
      const d = maxAbsDiff((e.data as Float32Array).subarray(i * 32, (i + 1) * 32), ref.features);
      console.log(`vit embed ${ref.file}: max |f - f_ref| = ${d.toExponential(2)}`);
      expect(d).toBeLessThan(1e-4);
    }
    const reversed = join(tmp, 'reversed.npy');
    expect(vitCommand('embed', IMAGES[1]!, IMAGES[0]!, '--weights', MODEL, '--backend', 'cpu', '--out', reversed).code).toBe(0);
    expect(maxAbsDiff((npy(reversed).data as Float32Array).subarray(0, 32), expected.images[1]!.features)).toBeLessThan(1e-4);
  });

  it('vit embed --json --normalize, and --pooling tokens', () => {
    const r = vitCommand('embed', ...IMAGES, '--weights', MODEL, '--backend', 'cpu', '--json', '--normalize');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { dim: number; pooling: string; results: { file: string; embedding: number[] }[] };
    expect(out.pooling).toBe('model');
    expect(out.results.map((x) => x.file)).toEqual(['chelsea.png', 'chelsea_crop.jpg']);
    for (const [i, x] of out.results.entries()) {
      const ref = expected.images[i]!.features;
      const norm = Math.hypot(...ref);
      expect(maxAbsDiff(x.embedding, ref.map((v) => v / norm))).toBeLessThan(1e-4);
    }
    const tokens = join(tmp, 'tokens.npy');
    expect(vitCommand('embed', ...IMAGES, '--weights', MODEL, '--backend', 'cpu', '--pooling', 'tokens', '--out', tokens).code).toBe(0);
    expect(npy(tokens).shape).toEqual([2, 17, 32]);
  });

  const config = JSON.parse(readFileSync(join(ROOT, MODEL, 'config.json'), 'utf8')) as Record<string, unknown>;
  const textOnly = serializeSafetensors(
    new Map([
      ['text_model.embeddings.token_embedding.weight', { shape: [10, 8], data: new Float32Array(80) }],
      ['text_projection.weight', { shape: [8, 8], data: new Float32Array(64) }],
    ]) as never,
  );
  it.each([
    ['a model without config.json', () => [IMAGES[0]!, '--weights', modelDir('no-config', { 'config.json': null })], /no config\.json found/],
    ['labels in an unknown format', () => [IMAGES[0]!, '--weights', modelDir('bad-labels', { 'config.json': JSON.stringify({ ...config, id2label: expected.labels }) })], /id2label is a list/],
    [
      'a CLIP checkpoint with no vision tower',
      () => [IMAGES[0]!, '--weights', modelDir('text-only', { 'model.safetensors': textOnly, 'config.json': JSON.stringify({ model_type: 'clip' }) })],
      /holds no vision tower/,
    ],
    [
      'an image that is not an image',
      () => {
        writeFileSync(join(tmp, 'notes.png'), 'these are my notes\n');
        return [join(tmp, 'notes.png'), '--weights', MODEL];
      },
      /not an image/,
    ],
  ])('vit predict and vit embed fail with one line on %s', (_what, args, message) => {
    for (const command of ['predict', 'embed']) {
      const r = vitCommand(command, ...args(), '--backend', 'cpu');
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^vit ${command}: error: `));
      expect(r.stderr).toMatch(message);
    }
  });
});

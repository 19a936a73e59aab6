// Spawns `vit predict` on the shipped example and checks what it prints and saves.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, maxAbsDiff, npy, vitPredict as vit } from './helpers/predict_cli.js';

const MICRO = 'fixtures/reference/vit-micro';
const EXAMPLE = 'fixtures/examples/vit-micro-input.npy';
const BASE = [EXAMPLE, '--weights', `${MICRO}/timm.safetensors`, '--config', `${MICRO}/hf-config.json`];

const tmp = mkdtempSync(join(tmpdir(), 'vit-predict-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('vit predict', () => {
  it('saves the reference logits and attention, and prints JSON with labels', () => {
    const logitsPath = join(tmp, 'logits.npy');
    const attentionDir = join(tmp, 'attention');
    const r = vit(...BASE, '--backend', 'wasm', '--json', '--top', '3', '--save-logits', logitsPath, '--save-attention', attentionDir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    const expectedLogits = npy(join(ROOT, MICRO, 'expected_logits.npy'));
    const logits = npy(logitsPath);
    expect(logits.shape).toEqual([2, 10]);
    expect(maxAbsDiff(logits.data, expectedLogits.data)).toBeLessThan(1e-4);
    const attention = npy(join(attentionDir, 'attention_block0.npy'));
    expect(attention.shape).toEqual([2, 4, 17, 17]);
    expect(maxAbsDiff(attention.data, npy(join(ROOT, MICRO, 'expected_attention_block0.npy')).data)).toBeLessThan(1e-4);
    expect(npy(join(attentionDir, 'attention_block1.npy')).shape).toEqual([2, 4, 17, 17]);

    const out = JSON.parse(r.stdout) as { backend: string; results: { top: { index: number; label: string; probability: number }[]; logits: number[] }[] };
    expect(out.backend).toBe('wasm');
    expect(out.results).toHaveLength(2);
    for (const [i, res] of out.results.entries()) {
      expect(maxAbsDiff(res.logits, expectedLogits.data.subarray(i * 10, (i + 1) * 10))).toBeLessThan(1e-4);
      // The best class is the largest reference logit, labelled from id2label.
      const row = Array.from(expectedLogits.data.subarray(i * 10, (i + 1) * 10));
      const best = row.indexOf(Math.max(...row));
      expect(res.top).toHaveLength(3);
      expect(res.top[0]).toMatchObject({ index: best, label: `class_${best}` });
      expect(res.top[0]!.probability).toBeGreaterThan(res.top[1]!.probability);
      // softmax of the reference logits
      const z = row.reduce((s, v) => s + Math.exp(v), 0);
      expect(Math.abs(res.top[0]!.probability - Math.exp(row[best]!) / z)).toBeLessThan(1e-4);
    }
  });

  it.each(['hf.safetensors', 'torchvision.safetensors', 'jax.npz'])('gives the reference logits from %s too', (file) => {
    const r = vit(EXAMPLE, '--weights', `${MICRO}/${file}`, '--config', `${MICRO}/hf-config.json`, '--backend', 'cpu', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { results: { logits: number[] }[] };
    const expected = npy(join(ROOT, MICRO, 'expected_logits.npy')).data;
    expect(maxAbsDiff(out.results.flatMap((x) => x.logits), expected)).toBeLessThan(1e-4);
  });

  it('classifies image files with the preprocessor_config.json beside the weights', () => {
    // The web demo's bundled Fashion-MNIST model (trained by `vit train`) and its sample images with known labels.
    const model = 'apps/web-demo/public/models/fashion-mnist';
    const samples = ['00-t-shirt-top.png', '01-trouser.png', '05-sandal.png'].map((f) => `apps/web-demo/public/samples/${f}`);
    const r = vit(...samples, '--weights', `${model}/model.safetensors`, '--config', `${model}/config.json`, '--backend', 'wasm', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { results: { top: { label: string }[] }[] };
    expect(out.results.map((x) => x.top[0]!.label)).toEqual(['T-shirt/top', 'Trouser', 'Sandal']);
  });

  it('asks for --preprocess when no preprocessor_config.json is known', () => {
    const r = vit('apps/web-demo/public/samples/01-trouser.png', '--weights', `${MICRO}/timm.safetensors`, '--config', `${MICRO}/hf-config.json`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/image inputs need --preprocess/);
  });

  it('prints a readable top-K table by default', () => {
    const r = vit(...BASE, '--backend', 'cpu', '--top', '2');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^backend: cpu/);
    expect(r.stdout).toMatch(/vit-micro-input\.npy \[0\]\n\s+rank\s+class\s+index\s+probability\n\s+1\s+class_6\s+6\s+0\.51\d\d\n\s+2\s+class_5/);
    expect(r.stdout).toMatch(/vit-micro-input\.npy \[1\]\n.*\n\s+1\s+class_9\s+9\s+0\.37\d\d/);
  });

  const WEIGHTS = ['--weights', `${MICRO}/timm.safetensors`];
  const CONFIG = ['--config', `${MICRO}/hf-config.json`];
  it.each([
    ['a missing weights file', [EXAMPLE, '--weights', 'nope.safetensors', ...CONFIG], /nope\.safetensors not found/],
    ['an unknown flag', [...BASE, '--frobnicate'], /Unknown option '--frobnicate'/],
    ['a bad --top', [...BASE, '--top', 'x'], /--top must be an integer/],
    ['a missing --weights', [EXAMPLE, ...CONFIG], /--weights is required/],
    ['an image without --preprocess', ['fixtures/reference/preprocess-chelsea/chelsea.png', ...WEIGHTS, ...CONFIG], /image inputs need --preprocess timm\|hf\|torchvision/],
    ['NCHW input', [`${MICRO}/input_nchw.npy`, ...WEIGHTS, ...CONFIG], /shape \[2, 3, 32, 32\].*NCHW/],
  ])('fails with one clear line on %s', (_what, args, message) => {
    const r = vit(...args);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^vit predict: error: /);
    expect(r.stderr).toMatch(message);
  });
});

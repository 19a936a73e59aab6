// Spawns `vit predict` on the shipped example and checks what it prints and saves.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeNpy } from '@vitkit/core';
import { parseSafetensors, serializeSafetensors } from '@vitkit/weights';
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

  it('takes the preprocessor_config.json inside a run directory given as --weights, not the one in its parent', () => {
    const model = 'apps/web-demo/public/models/fashion-mnist';
    const parent = join(tmp, 'runs');
    const run = join(parent, 'fashion');
    mkdirSync(run, { recursive: true });
    for (const f of ['model.safetensors', 'config.json', 'preprocessor_config.json']) copyFileSync(join(ROOT, model, f), join(run, f));
    // A parent folder's config that cannot work (its size is beyond any backend): used, it would fail.
    writeFileSync(join(parent, 'preprocessor_config.json'), JSON.stringify({ do_resize: true, size: { height: 100000, width: 100000 } }));
    const r = vit('apps/web-demo/public/samples/01-trouser.png', '--weights', run, '--backend', 'cpu', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { results: { top: { label: string }[] }[] }).results[0]!.top[0]!.label).toBe('Trouser');
  });

  it('says what to do in CLI terms when the config and the checkpoint disagree on classes (no library option names)', () => {
    const config = JSON.parse(readFileSync(join(ROOT, MICRO, 'hf-config.json'), 'utf8')) as Record<string, unknown>;
    const threeClasses = { ...config, id2label: { 0: 'a', 1: 'b', 2: 'c' }, label2id: { a: 0, b: 1, c: 2 } };
    const path = join(tmp, 'three-classes.json');
    writeFileSync(path, JSON.stringify(threeClasses));
    const r = vit(EXAMPLE, '--weights', `${MICRO}/timm.safetensors`, '--config', path);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/classifier has 10 classes but 3 were asked for — check --config against the checkpoint; .*--num-classes N/);
    expect(r.stderr).not.toMatch(/headMode/);
  });

  it('refuses NaN inputs and non-finite weights instead of printing NaN probabilities', () => {
    const input = npy(join(ROOT, EXAMPLE));
    const data = Float32Array.from(input.data as Float32Array);
    data[7] = Number.NaN;
    const nanInput = join(tmp, 'nan-input.npy');
    writeFileSync(nanInput, serializeNpy({ shape: input.shape, dtype: 'float32', data }));
    const r = vit(nanInput, '--weights', `${MICRO}/timm.safetensors`, '--config', `${MICRO}/hf-config.json`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nan-input\.npy holds NaN at element 7 — inputs must be finite/);
    const weights = parseSafetensors(new Uint8Array(readFileSync(join(ROOT, MICRO, 'timm.safetensors'))));
    const head = weights.tensors.get('head.weight')!;
    const inf = Float32Array.from(head.data as Float32Array);
    inf[0] = Number.POSITIVE_INFINITY;
    weights.tensors.set('head.weight', { shape: head.shape, data: inf });
    const infWeights = join(tmp, 'inf.safetensors');
    writeFileSync(infWeights, serializeSafetensors(weights.tensors));
    const w = vit(EXAMPLE, '--weights', infWeights, '--config', `${MICRO}/hf-config.json`);
    expect(w.code).toBe(1);
    expect(w.stderr.trim().split('\n')).toHaveLength(1);
    expect(w.stderr).toMatch(/tensor head\.weight holds Infinity \(at element 0\)/);
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

// `vit predict` on the ViT-family fixtures (timm weights + timm hub config.json): the saved
// logits are timm's to 1e-4, models without classifier print their features with --json,
// a dynamic-size model takes another input size, and checkpoints come by URL and hf:// (from 127.0.0.1 only).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNpy, serializeNpy } from '@vitkit/core';
import { ROOT, maxAbsDiff, npy as readNpy, vitPredict as vit, vitPredictAsync } from './helpers/predict_cli.js';

const FAMILY = 'fixtures/reference/vit-family';
const CASES = ['deit-distilled', 'dinov2-reg', 'clip', 'siglip'];
const npy = (path: string) => readNpy(join(ROOT, path));

const tmp = mkdtempSync(join(tmpdir(), 'vit-family-predict-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const args = (name: string, input = 'input_nhwc.npy') => [`${FAMILY}/${name}/${input}`, '--weights', `${FAMILY}/${name}/timm.safetensors`, '--config', `${FAMILY}/${name}/config.json`];

describe('vit predict on the ViT family', () => {
  it.each(CASES)('%s: --save-logits gives timm\'s logits; --json prints top-K, or features without classifier', (name) => {
    const out = join(tmp, `${name}.npy`);
    const r = vit(...args(name), '--backend', 'cpu', '--json', '--save-logits', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const expected = npy(`${FAMILY}/${name}/logits.npy`);
    const logits = parseNpy(new Uint8Array(readFileSync(out)));
    expect(logits.shape).toEqual(expected.shape);
    expect(maxAbsDiff(logits.data, expected.data)).toBeLessThan(1e-4);
    const json = JSON.parse(r.stdout) as { results: ({ features: number[] } | { top: unknown[]; logits: number[] })[] };
    expect(json.results).toHaveLength(2);
    const withoutClassifier = name === 'dinov2-reg' || name === 'siglip';
    if (withoutClassifier) {
      const features = json.results.map((res) => (res as { features: number[] }).features);
      expect(features[0]).toHaveLength(32);
      expect(maxAbsDiff(features.flat(), npy(`${FAMILY}/${name}/features.npy`).data)).toBeLessThan(1e-4);
    } else {
      expect(json.results[0]).toHaveProperty('top');
      expect(maxAbsDiff(json.results.flatMap((res) => (res as { logits: number[] }).logits), expected.data)).toBeLessThan(1e-4);
    }
  });

  it('dinov2-reg (dynamic_img_size) takes a 35x42 input on wasm; a size off the patch grid names the nearest ones', () => {
    const out = join(tmp, 'dinov2-35x42.npy');
    const r = vit(...args('dinov2-reg', 'input2_nhwc.npy'), '--backend', 'wasm', '--save-logits', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/no classifier/);
    expect(maxAbsDiff(parseNpy(new Uint8Array(readFileSync(out))).data, npy(`${FAMILY}/dinov2-reg/logits2.npy`).data)).toBeLessThan(1e-4);

    const off = join(tmp, 'off-grid.npy');
    writeFileSync(off, serializeNpy({ shape: [1, 35, 40, 3], dtype: 'float32', data: new Float32Array(35 * 40 * 3) }));
    const bad = vit(off, '--weights', `${FAMILY}/dinov2-reg/timm.safetensors`, '--config', `${FAMILY}/dinov2-reg/config.json`, '--backend', 'cpu');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/35x40 is not a multiple of patch 7: use 35x35 or 35x42/);
  });

  it('dinov2-reg by hf:// (Hub file layout, VITKIT_HF_ENDPOINT) and by URL with a --config URL, served on 127.0.0.1', async () => {
    const dir = join(ROOT, FAMILY, 'dinov2-reg');
    const files = new Map([
      ['/org/dinov2-reg/resolve/main/model.safetensors', 'timm.safetensors'],
      ['/org/dinov2-reg/resolve/main/config.json', 'config.json'],
      ['/files/timm.safetensors', 'timm.safetensors'],
      ['/files/config.json', 'config.json'],
    ]);
    const requests: string[] = [];
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      requests.push(`${req.method} ${path}`);
      const file = files.get(path);
      if (!file) res.writeHead(404).end();
      else if (req.method === 'HEAD') res.writeHead(200).end();
      else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(join(dir, file)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Only this server is reachable: the Hub endpoint points at it, and the download cache is private to the test.
    const env = { VITKIT_HF_ENDPOINT: base, VITKIT_CACHE: join(tmp, 'cache'), VITKIT_OFFLINE: '', HF_TOKEN: '' };
    const expected = npy(`${FAMILY}/dinov2-reg/logits.npy`);
    const input = `${FAMILY}/dinov2-reg/input_nhwc.npy`;
    try {
      for (const [name, source] of [
        ['hf', ['--weights', 'hf://org/dinov2-reg']],
        ['url', ['--weights', `${base}/files/timm.safetensors`, '--config', `${base}/files/config.json`]],
      ] as const) {
        const out = join(tmp, `dinov2-${name}.npy`);
        const r = await vitPredictAsync(env, input, ...source, '--backend', 'cpu', '--save-logits', out);
        expect(r.stderr, name).toBe('');
        expect(r.code, name).toBe(0);
        expect(r.stdout).toMatch(/no classifier/);
        expect(maxAbsDiff(parseNpy(new Uint8Array(readFileSync(out))).data, expected.data)).toBeLessThan(1e-4);
      }
      expect(requests).toContain('GET /org/dinov2-reg/resolve/main/config.json');
      expect(requests).toContain('GET /files/config.json');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

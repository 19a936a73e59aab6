// The same model from a URL and from hf://org/repo[@rev] (a local server stands in for the Hub).
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '@vitkit/core';
import { loadImageClassifier } from '../src/index.js';
import { ROOT } from './helpers.js';

const REF = join(ROOT, 'fixtures/reference/task-layer');
const PNG = join(ROOT, 'fixtures/reference/preprocess-chelsea/chelsea.png');
const expected = JSON.parse(readFileSync(join(REF, 'expected.json'), 'utf8')) as { images: { probabilities: number[] }[] };
const FILES = ['model.safetensors', 'config.json', 'preprocessor_config.json'];

let server: Server;
let url = '';
beforeAll(async () => {
  await setupBackend('cpu');
  const files = new Map<string, Buffer>();
  for (const f of FILES) {
    const bytes = readFileSync(join(REF, 'model', f));
    files.set(`/files/${f}`, bytes);
    files.set(`/org/micro/resolve/v1/${f}`, bytes);
  }
  server = createServer((req, res) => {
    const body = files.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!body) res.writeHead(404).end();
    else res.writeHead(200, { 'content-length': body.length }).end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('remote sources', () => {
  it.each([
    ['a URL (config.json and preprocessor_config.json beside it)', () => [`${url}/files/model.safetensors`, {}] as const],
    ['hf://org/repo@rev', () => ['hf://org/micro@v1', { endpoint: url }] as const],
  ])('%s gives the reference probabilities', async (_what, source) => {
    const [src, options] = source();
    const classifier = await loadImageClassifier(src, { ...options, cache: false });
    try {
      const top = await classifier.classify(PNG, { topK: 10 });
      const probs = new Array<number>(10);
      for (const t of top) probs[t.index] = t.probability;
      expect(Math.max(...probs.map((p, i) => Math.abs(p - expected.images[0]!.probabilities[i]!)))).toBeLessThan(1e-4);
      expect(top[0]!.label).toBe('fox');
    } finally {
      classifier.dispose();
    }
  });
});

// The README's "Models" table, one test per row: each repository's file layout as the Hub
// publishes it (tiny random weights, shrunk sizes), served on 127.0.0.1 and loaded through
// hf://org/repo with the endpoint override; the output is labels (id2label names) or an
// embedding of the expected size.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '@vitkit/core';
import { loadImageClassifier, loadImageEmbedder } from '../src/index.js';
import { ROOT } from './helpers.js';
import { hubRepos, serveHub } from './hub_layouts.js';

const JPEG = join(ROOT, 'fixtures/reference/task-layer/chelsea_crop.jpg');
const repos = hubRepos();
let hub: Awaited<ReturnType<typeof serveHub>>;

beforeAll(async () => {
  await setupBackend('cpu');
  hub = await serveHub(repos);
});
afterAll(async () => {
  await hub.close();
});

describe('hub repositories known to load (README "Models")', () => {
  it.each(repos.map((r) => [r.repo, r] as const))('hf://%s', async (_name, r) => {
    const notes: string[] = [];
    const options = { endpoint: hub.url, cache: false as const, onNote: (m: string) => notes.push(m) };
    if ('labels' in r.expect) {
      const classifier = await loadImageClassifier(`hf://${r.repo}`, options);
      try {
        const top = await classifier.classify(JPEG, { topK: 3 });
        expect(top).toHaveLength(3);
        for (const t of top) expect(t.label).toBe(r.expect.labels[t.index]);
      } finally {
        classifier.dispose();
      }
    } else {
      const embedder = await loadImageEmbedder(`hf://${r.repo}`, options);
      try {
        const [v] = await embedder.embed(JPEG, { normalize: true });
        expect(v).toHaveLength(r.expect.dim);
        expect(Math.hypot(...v!)).toBeCloseTo(1, 5);
        // Full CLIP / SigLIP checkpoints: the vision tower, and a note that the text tower was left out.
        expect(notes.some((m) => /text tower/.test(m))).toBe(/clip|siglip/.test(r.repo));
      } finally {
        embedder.dispose();
      }
    }
  });
});

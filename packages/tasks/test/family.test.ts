// The ViT family through the task layer: timm hub config.json (pretrained_cfg) sources, the model's own
// pooling as the embedding (timm's pre-logits, fixtures/reference/vit-family), and a full SigLIP
// checkpoint (vision + text tower) that loads its vision tower and says so once.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseNpy, setupBackend } from '@vitkit/core';
import { configToHF, convertFromTimm, prepareCheckpoint, readCheckpoint, serializeSafetensors } from '@vitkit/weights';
import { loadImageEmbedder } from '../src/index.js';
import { maxDiff, ROOT } from './helpers.js';

const FAMILY = join(ROOT, 'fixtures/reference/vit-family');
const PNG = join(ROOT, 'fixtures/reference/preprocess-chelsea/chelsea.png');
const npy = (path: string) => parseNpy(new Uint8Array(readFileSync(path)));

describe('embeddings from the ViT family', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it.each(['dinov2-reg', 'clip', 'siglip'])('%s: loads with its timm config.json (pretrained_cfg); embed() is the pre-logits features', async (name) => {
    const embedder = await loadImageEmbedder(join(FAMILY, name, 'timm.safetensors'));
    try {
      expect(embedder.spec).toBeDefined();
      // The model's pooling on timm's own preprocessed inputs gives timm's pre-logits features.
      const x = npy(join(FAMILY, name, 'input_nhwc.npy'));
      const input = tf.tensor(x.data as Float32Array, x.shape, 'float32');
      const out = embedder.model.forward(input);
      const d = maxDiff(out.features.dataSync(), npy(join(FAMILY, name, 'features.npy')).data as Float32Array);
      console.log(`${name}: max |features - timm| = ${d.toExponential(2)}`);
      expect(d).toBeLessThan(1e-4);
      tf.dispose([input, out.logits, out.features]);
      // embed() on an image is exactly that pooling of its preprocessed batch.
      const [v] = await embedder.embed(PNG);
      const batch = await embedder.preprocess(PNG);
      const again = embedder.model.forward(batch);
      expect(maxDiff(v!, again.features.dataSync())).toBe(0);
      expect(v!.length).toBe(embedder.dim);
      tf.dispose([batch, again.logits, again.features]);
    } finally {
      embedder.dispose();
    }
  });

  it('a full SigLIP checkpoint (vision and text towers) loads its vision part and says so once', async () => {
    const raw = await readCheckpoint(join(FAMILY, 'siglip/timm.safetensors'));
    const { config } = prepareCheckpoint(raw);
    const vision = convertFromTimm(raw.tensors, 'hf-siglip').tensors;
    const tensors = new Map([
      ...vision,
      ['text_model.embeddings.token_embedding.weight', { shape: [16, 32], data: new Float32Array(16 * 32).fill(0.5) }],
      ['text_model.final_layer_norm.weight', { shape: [32], data: new Float32Array(32).fill(1) }],
      ['logit_scale', { shape: [1], data: new Float32Array([2.3]) }],
      ['logit_bias', { shape: [1], data: new Float32Array([-10]) }],
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'vitkit-siglip-'));
    writeFileSync(join(dir, 'model.safetensors'), serializeSafetensors(tensors as never));
    const visionConfig = configToHF(config, 'hf-siglip');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'siglip', architectures: ['SiglipModel'], vision_config: visionConfig, text_config: { hidden_size: 32 } }));
    writeFileSync(
      join(dir, 'preprocessor_config.json'),
      JSON.stringify({ do_resize: true, size: { height: 32, width: 32 }, resample: 3, do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] }),
    );
    const notes: string[] = [];
    const embedder = await loadImageEmbedder(dir, { onNote: (m) => notes.push(m) });
    try {
      expect(notes.filter((m) => /text tower/.test(m))).toHaveLength(1);
      const x = npy(join(FAMILY, 'siglip/input_nhwc.npy'));
      const input = tf.tensor(x.data as Float32Array, x.shape, 'float32');
      const out = embedder.model.forward(input);
      expect(maxDiff(out.features.dataSync(), npy(join(FAMILY, 'siglip/features.npy')).data as Float32Array)).toBeLessThan(1e-4);
      tf.dispose([input, out.logits, out.features]);
      expect((await embedder.embed([PNG, PNG], { normalize: true })).map((v) => Math.hypot(...v))).toEqual([expect.closeTo(1, 5), expect.closeTo(1, 5)]);
    } finally {
      embedder.dispose();
    }
  });

  it('browser-style sources: the Files a user picked (weights, config.json, preprocessor_config.json)', async () => {
    const model = join(ROOT, 'fixtures/reference/task-layer/model');
    const files = ['model.safetensors', 'config.json', 'preprocessor_config.json'].map((f) => new File([readFileSync(join(model, f))], f));
    const embedder = await loadImageEmbedder(files);
    try {
      const expected = JSON.parse(readFileSync(join(ROOT, 'fixtures/reference/task-layer/expected.json'), 'utf8')) as { images: { features: number[] }[] };
      const [v] = await embedder.embed(new File([readFileSync(PNG)], 'chelsea.png'));
      expect(maxDiff(v!, expected.images[0]!.features)).toBeLessThan(1e-4);
      expect(embedder.labels?.[0]).toBe('tabby');
    } finally {
      embedder.dispose();
    }
  });
});

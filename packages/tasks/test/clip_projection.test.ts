// CLIP's projected image embeddings (transformers' get_image_features) against
// fixtures/reference/clip-projection (made by make.py there with torch).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNpy, setupBackend } from '@vitkit/core';
import { convertFromTimm, parseSafetensors, serializeSafetensors } from '@vitkit/weights';
import { ImageClassifier, loadImageEmbedder, type ImageEmbedder } from '../src/index.js';
import { maxDiff, ROOT } from './helpers.js';

const CLIP = join(ROOT, 'fixtures/reference/vit-family/clip');
const REF = join(ROOT, 'fixtures/reference/clip-projection');
const npy = (path: string) => parseNpy(new Uint8Array(readFileSync(path)));

const VISION = { hidden_size: 32, image_size: 32, intermediate_size: 128, num_attention_heads: 2, num_hidden_layers: 2, patch_size: 8, hidden_act: 'quick_gelu', layer_norm_eps: 1e-5 };
const PREPROCESSOR = { crop_size: 32, do_center_crop: true, do_normalize: true, do_resize: true, image_processor_type: 'CLIPImageProcessor', resample: 3, size: 32 };

/**
 * The vit-family clip micro model as a Hugging Face CLIP checkpoint: its head.weight becomes
 * visual_projection.weight (no bias), the rest the vision tower's names.
 */
function hfClipDir(config: Record<string, unknown>): string {
  const timm = parseSafetensors(new Uint8Array(readFileSync(join(CLIP, 'timm.safetensors')))).tensors;
  timm.get('head.bias')!.data.fill(0);
  const hf = convertFromTimm(timm, 'hf-clip', { numHeads: 2 }).tensors;
  expect(hf.get('visual_projection.weight')?.shape).toEqual([12, 32]);
  const dir = mkdtempSync(join(tmpdir(), 'vitkit-clip-'));
  writeFileSync(join(dir, 'model.safetensors'), serializeSafetensors(hf));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'preprocessor_config.json'), JSON.stringify(PREPROCESSOR));
  return dir;
}

const CONFIGS: [string, Record<string, unknown>][] = [
  ['CLIPVisionModelWithProjection', { architectures: ['CLIPVisionModelWithProjection'], model_type: 'clip_vision_model', projection_dim: 12, ...VISION }],
  ['CLIPModel', { architectures: ['CLIPModel'], model_type: 'clip', projection_dim: 12, vision_config: { model_type: 'clip_vision_model', ...VISION } }],
];

describe.each(CONFIGS)('CLIP with visual_projection (%s)', (_name, config) => {
  let embedder: ImageEmbedder;
  let input: tf.Tensor4D;
  beforeAll(async () => {
    await setupBackend('cpu');
    embedder = await loadImageEmbedder(hfClipDir(config));
    const x = npy(join(CLIP, 'input_nhwc.npy'));
    input = tf.tensor4d(x.data as Float32Array, x.shape as [number, number, number, number]);
  });
  afterAll(() => {
    embedder.dispose();
    input.dispose();
  });

  it('embeds as get_image_features by default: visual_projection(post_layernorm(class token)) (1e-4)', async () => {
    expect(embedder.projects).toBe(true);
    expect(embedder.details.head).toBe('projection');
    expect(embedder.dim).toBe(12);
    const want = npy(join(REF, 'image_embeds.npy'));
    const got = await embedder.embedPreprocessed(input);
    expect(got).toHaveLength(2);
    for (let i = 0; i < 2; i++) {
      const d = maxDiff(got[i]!, (want.data as Float32Array).subarray(i * 12, (i + 1) * 12));
      console.log(`clip image_embeds ${i}: max |v - torch| = ${d.toExponential(2)}`);
      expect(d).toBeLessThan(1e-4);
    }
  });

  it('pooling "pooled" reaches the unprojected features (pooler_output), "cls" the same here', async () => {
    const want = npy(join(CLIP, 'features.npy'));
    for (const pooling of ['pooled', 'cls'] as const) {
      const got = await embedder.embedPreprocessed(input, { pooling });
      expect(got[0]).toHaveLength(32);
      expect(maxDiff(got.flatMap((v) => [...v]), want.data as Float32Array)).toBeLessThan(1e-4);
    }
  });

  it('normalizes projected vectors to unit length, and is no classifier', async () => {
    const [v] = await embedder.embedPreprocessed(input, { normalize: true });
    expect(Math.hypot(...v!)).toBeCloseTo(1, 6);
    await expect(ImageClassifier.from(embedder).predict(input)).rejects.toThrow(/visual_projection.*not a classifier/);
  });
});

// Issue 3 acceptance through the library API: every checkpoint convention in
// fixtures/reference/vit-micro gives the reference logits.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '@vitkit/core';
import { loadViT } from '../src/index.js';
import { loadNpy, maxAbsDiff, VIT_MICRO_DIR } from './helpers/fixtures.js';

const FILES = ['timm.safetensors', 'hf.safetensors', 'torchvision.safetensors', 'jax.npz'];

describe.each(['cpu', 'wasm'] as const)('loadViT on %s', (backend) => {
  beforeAll(async () => {
    await setupBackend(backend);
  });

  it.each(FILES)('%s gives the reference logits to 1e-4', async (file) => {
    const model = await loadViT(VIT_MICRO_DIR + file, { config: VIT_MICRO_DIR + 'hf-config.json' });
    const before = tf.memory().numTensors;
    const x = loadNpy('input_nhwc.npy');
    const expected = loadNpy('expected_logits.npy');
    const logits = model.predict(x);
    expect(maxAbsDiff(logits, expected)).toBeLessThan(1e-4);
    tf.dispose([x, expected, logits]);
    expect(tf.memory().numTensors).toBe(before);
    expect(model.config.labels?.length).toBe(10);
    model.dispose();
  });

  it('takes the head count from a preset-less timm file only when told', async () => {
    // timm.safetensors records no head count: without a config it must ask for it by name.
    await expect(loadViT(VIT_MICRO_DIR + 'timm.safetensors')).rejects.toThrow(/numHeads/);
    const model = await loadViT(VIT_MICRO_DIR + 'timm.safetensors', { numHeads: 4 });
    expect(model.config.depth).toBe(2);
    model.dispose();
  });

  it('replaces the classifier for fine-tuning and keeps the backbone', async () => {
    const model = await loadViT(VIT_MICRO_DIR + 'torchvision.safetensors', {
      config: VIT_MICRO_DIR + 'hf-config.json',
      headMode: 'replace',
      numClasses: 3,
      seed: 1,
    });
    expect(model.config.numClasses).toBe(3);
    const x = loadNpy('input_nhwc.npy');
    const out = model.forward(x, { returnHiddenStates: true });
    const expectedNorm = loadNpy('expected_final_norm.npy');
    expect(out.logits.shape).toEqual([2, 3]);
    expect(maxAbsDiff(out.finalNorm!, expectedNorm)).toBeLessThan(1e-4);
    tf.dispose([x, expectedNorm, out.logits, out.features, out.finalNorm!, out.embeddings!, ...out.hiddenStates!]);
    model.dispose();
  });

  it('fails with a one-line error for a missing file and a bad config path', async () => {
    await expect(loadViT(VIT_MICRO_DIR + 'nope.safetensors', { numHeads: 4 })).rejects.toThrow(/nope\.safetensors/);
    await expect(loadViT(VIT_MICRO_DIR + 'timm.safetensors', { config: '/no/such/config.json' })).rejects.toThrow(/cannot read config/);
  });
});

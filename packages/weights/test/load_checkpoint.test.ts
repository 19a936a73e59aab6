import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseNpy, setupBackend, StateDictError } from '@vitkit/core';
import {
  CheckpointKeysError,
  CheckpointShapeError,
  inferConfig,
  loadCheckpoint,
  NonFiniteWeightsError,
  serializeSafetensors,
  timmShapes,
  type RawTensors,
} from '../src/index.js';
import { bytesOf, fixtureBytes, MICRO, referenceTimm, tempDir } from './helpers.js';

const timmPath = join(MICRO, 'timm.safetensors');

function writeTemp(tensors: RawTensors, name = 'w.safetensors'): string {
  const path = join(tempDir(), name);
  writeFileSync(path, serializeSafetensors(tensors));
  return path;
}

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

beforeAll(async () => {
  await setupBackend('cpu');
});

describe('config inference', () => {
  it('reads the architecture from shapes and asks for the head count by name', () => {
    const e = caught(() => inferConfig(referenceTimm()));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).message).toMatch(/numHeads/);
    expect((e as ConfigError).hint).toMatch(/--num-heads/);
    expect(inferConfig(referenceTimm(), { numHeads: 4 })).toMatchObject({ imageSize: [32, 32], patchSize: 8, depth: 2, embedDim: 32, mlpDim: 64, numClasses: 10 });
  });

  it('loadCheckpoint without any head count fails the same way', async () => {
    await expect(loadCheckpoint(timmPath)).rejects.toThrow(/numHeads/);
  });

  it('takes the head count from a preset', async () => {
    // vit_tiny has 3 heads and embedDim 192: the architecture must then match the checkpoint.
    await expect(loadCheckpoint(timmPath, { preset: 'vit_tiny_patch16_224' })).rejects.toThrow(StateDictError);
    // depth 12 vs the checkpoint's 2: the blocks it lacks are listed.
    await expect(loadCheckpoint(timmPath, { preset: 'vit_tiny_patch16_224' })).rejects.toThrow(/missing 120: blocks\.2\.norm1\.weight/);
    await expect(loadCheckpoint(timmPath, { preset: 'no_such_preset' })).rejects.toThrow(/unknown preset/);
  });

  it('infers registers and no_embed_class position embeddings', () => {
    const t = referenceTimm();
    t.set('reg_token', { shape: [1, 4, 32], data: new Float32Array(128) });
    t.set('pos_embed', { shape: [1, 16, 32], data: new Float32Array(16 * 32) });
    const c = inferConfig(t, { numHeads: 4 });
    expect(c).toMatchObject({ numRegisterTokens: 4, noEmbedClass: true, imageSize: [32, 32] });
    expect(timmShapes(c).get('pos_embed')).toEqual([1, 16, 32]);
  });
});

describe('checks against the architecture', () => {
  it('lists missing and unexpected tensors', async () => {
    const t = referenceTimm();
    t.delete('blocks.1.norm1.weight');
    t.delete('norm.bias');
    t.set('blocks.0.attn.extra', { shape: [1], data: new Float32Array(1) });
    const e = await loadCheckpoint(writeTemp(t), { numHeads: 4 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CheckpointKeysError);
    expect((e as CheckpointKeysError).missing.sort()).toEqual(['blocks.1.norm1.weight', 'norm.bias']);
    expect((e as CheckpointKeysError).unexpected).toEqual(['blocks.0.attn.extra']);
    expect((e as Error).message).toMatch(/missing 2: .*norm\.bias.*unexpected 1: blocks\.0\.attn\.extra/);
    expect((e as Error).message).not.toContain('\n');
  });

  it('names the tensor, expected and actual shape on a mismatch', async () => {
    const t = referenceTimm();
    t.set('blocks.1.mlp.fc2.weight', { shape: [32, 32], data: new Float32Array(32 * 32) });
    const e = await loadCheckpoint(writeTemp(t), { numHeads: 4 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CheckpointShapeError);
    expect((e as CheckpointShapeError).tensor).toBe('blocks.1.mlp.fc2.weight');
    expect((e as CheckpointShapeError).message).toMatch(/shape mismatch for blocks\.1\.mlp\.fc2\.weight: expected \[32, 64\], got \[32, 32\]/);
  });

  it('refuses NaN and infinite weights on load, naming the tensor', async () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) {
      const t = referenceTimm();
      const w = Float32Array.from(t.get('blocks.0.attn.qkv.weight')!.data);
      w[5] = bad;
      t.set('blocks.0.attn.qkv.weight', { shape: t.get('blocks.0.attn.qkv.weight')!.shape, data: w });
      const e = await loadCheckpoint(writeTemp(t), { numHeads: 4 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(NonFiniteWeightsError);
      expect((e as NonFiniteWeightsError).tensor).toBe('blocks.0.attn.qkv.weight');
      expect((e as Error).message).toMatch(new RegExp(`tensor blocks\\.0\\.attn\\.qkv\\.weight holds ${bad} \\(at element 5\\).* — .*use an earlier checkpoint`));
    }
  });

  it('a config that disagrees with the checkpoint is a shape error', async () => {
    await expect(loadCheckpoint(timmPath, { numHeads: 4, config: { mlpDim: 128 } })).rejects.toThrow(/mlp\.fc1\.weight: expected \[128, 32\], got \[64, 32\]/);
  });
});

describe('head modes', () => {
  it('keep refuses a different class count, suggesting replace', async () => {
    await expect(loadCheckpoint(timmPath, { numHeads: 4, numClasses: 5 })).rejects.toThrow(/headMode "replace"/);
  });

  it('backbone drops the classifier', async () => {
    const loaded = await loadCheckpoint(timmPath, { numHeads: 4, headMode: 'backbone' });
    expect(loaded.config.numClasses).toBe(0);
    expect(loaded.state.has('head.weight')).toBe(false);
    expect(loaded.dropped.sort()).toEqual(['head.bias', 'head.weight']);
    expect(loaded.state.size).toBe(30);
    tf.dispose([...loaded.state.values()]);
  });

  it('replace makes a fresh seeded classifier of the requested size, keeping the backbone', async () => {
    const a = await loadCheckpoint(timmPath, { numHeads: 4, headMode: 'replace', numClasses: 3, labels: ['a', 'b', 'c'], seed: 7 });
    const b = await loadCheckpoint(timmPath, { numHeads: 4, headMode: 'replace', numClasses: 3, seed: 7 });
    expect(a.headReplaced).toBe(true);
    expect(a.config).toMatchObject({ numClasses: 3, labels: ['a', 'b', 'c'] });
    expect(b.config.labels).toBeUndefined();
    const w = a.state.get('head.weight')!;
    expect(w.shape).toEqual([3, 32]);
    const values = Array.from(w.dataSync());
    expect(values).toEqual(Array.from(b.state.get('head.weight')!.dataSync())); // same seed, same head
    const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
    expect(std).toBeGreaterThan(0.01);
    expect(std).toBeLessThan(0.03);
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(0.04);
    expect(Array.from(a.state.get('head.bias')!.dataSync())).toEqual([0, 0, 0]);
    const ref = referenceTimm();
    expect(bytesOf(a.state.get('blocks.1.attn.qkv.weight')!.dataSync() as Float32Array).equals(bytesOf(ref.get('blocks.1.attn.qkv.weight')!.data))).toBe(true);
    tf.dispose([...a.state.values(), ...b.state.values()]);
    await expect(loadCheckpoint(timmPath, { numHeads: 4, headMode: 'replace' })).rejects.toThrow(/needs numClasses/);
  });
});

describe('image size changes resample pos_embed (timm semantics)', () => {
  const dir = join(MICRO, '..', 'posembed-resample');
  const npy = (name: string) => parseNpy(fixtureBytes(`posembed-resample/${name}`));

  it.each([
    [48, 'pos_embed_6x6.npy', 6],
    [24, 'pos_embed_3x3.npy', 3],
  ])('imageSize %d matches %s to 1e-4', async (imageSize, file, grid) => {
    expect(dir).toContain('posembed-resample');
    // vit-micro with the resample fixture's 4x4 position embedding in place of its own.
    const t = referenceTimm();
    const src = npy('pos_embed_4x4.npy');
    t.set('pos_embed', { shape: src.shape, data: src.data as Float32Array });
    const before = tf.memory().numTensors;
    const loaded = await loadCheckpoint(writeTemp(t), { numHeads: 4, imageSize });
    expect(loaded.resampled).toEqual({ from: [4, 4], to: [grid, grid] });
    expect(loaded.config.imageSize).toEqual([imageSize, imageSize]);
    expect(loaded.checkpointConfig.imageSize).toEqual([32, 32]);
    const pe = loaded.state.get('pos_embed')!;
    const expected = npy(file);
    expect(pe.shape).toEqual(expected.shape);
    const got = pe.dataSync();
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected.data[i]!));
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([...loaded.state.values()]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses an image size that is not a multiple of the patch size', async () => {
    await expect(loadCheckpoint(timmPath, { numHeads: 4, imageSize: 30 })).rejects.toThrow(ConfigError);
  });
});

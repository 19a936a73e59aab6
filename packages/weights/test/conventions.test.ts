import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, setupBackend } from '@vitkit/core';
import {
  configFromHF,
  configToHF,
  convertFromTimm,
  convertToTimm,
  detectConvention,
  loadCheckpoint,
  parseNpz,
  parseSafetensors,
  serializeNpz,
  serializeSafetensors,
  WeightsFormatError,
  type Convention,
  type RawTensors,
} from '../src/index.js';
import { bytesOf, differences, fixtureBytes, MICRO, MICRO_HEADS, referenceTimm } from './helpers.js';

const FILES: [string, Convention][] = [
  ['timm.safetensors', 'timm'],
  ['hf.safetensors', 'hf'],
  ['torchvision.safetensors', 'torchvision'],
  ['jax.npz', 'jax'],
];

const manifest = JSON.parse(readFileSync(join(MICRO, 'manifest.json'), 'utf8')) as { config: Record<string, number>; layer_norm_eps: number };

beforeAll(async () => {
  await setupBackend('cpu');
});

describe('the four vit-micro files', () => {
  it.each(FILES)('%s loads through loadCheckpoint to the timm reference, bit for bit', async (file, convention) => {
    const reference = referenceTimm();
    const before = tf.memory().numTensors;
    const loaded = await loadCheckpoint(join(MICRO, file), { numHeads: MICRO_HEADS, cache: false });
    expect(loaded.convention).toBe(convention);
    expect(loaded.dropped).toEqual([]);
    expect([...loaded.state.keys()].sort()).toEqual([...reference.keys()].sort());
    for (const [name, t] of loaded.state) {
      const ref = reference.get(name)!;
      expect(t.shape, name).toEqual(ref.shape);
      expect(bytesOf(t.dataSync() as Float32Array).equals(bytesOf(ref.data)), name).toBe(true);
    }
    const c = loaded.config;
    expect([c.imageSize[0], c.patchSize, c.depth, c.numHeads, c.embedDim, c.mlpDim, c.numClasses]).toEqual([
      manifest.config.image_size,
      manifest.config.patch_size,
      manifest.config.depth,
      manifest.config.num_heads,
      manifest.config.hidden_dim,
      manifest.config.mlp_dim,
      manifest.config.num_classes,
    ]);
    expect(c.layerNormEps).toBe(manifest.layer_norm_eps);
    tf.dispose([...loaded.state.values()]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the JAX file carries its own head count, so it loads without numHeads', async () => {
    const loaded = await loadCheckpoint(join(MICRO, 'jax.npz'), { cache: false });
    expect(loaded.config.numHeads).toBe(MICRO_HEADS);
    tf.dispose([...loaded.state.values()]);
  });

  it('detectConvention names each file', async () => {
    for (const [file, convention] of FILES) {
      const bytes = fixtureBytes(`vit-micro/${file}`);
      const tensors = file.endsWith('.npz') ? await parseNpz(bytes) : parseSafetensors(bytes).tensors;
      expect(detectConvention(tensors.keys())).toBe(convention);
    }
    expect(() => detectConvention(['foo.weight', 'bar'])).toThrow(WeightsFormatError);
    expect(() => detectConvention(['foo.weight'])).toThrow(/foo\.weight/);
  });
});

describe('conversion between conventions', () => {
  const reference = referenceTimm();

  it.each(['hf', 'torchvision', 'jax', 'timm'] as const)('timm -> %s -> timm is lossless (bit-identical)', (convention) => {
    const out = convertFromTimm(reference, convention, { numHeads: MICRO_HEADS });
    expect(detectConvention(out.tensors.keys())).toBe(convention);
    const back = convertToTimm(out.tensors, convention);
    expect(differences(back.tensors, reference)).toEqual([]);
  });

  it('hf-model (bare ViTModel) drops the classifier and round-trips the rest', () => {
    const out = convertFromTimm(reference, 'hf-model');
    expect([...out.dropped].sort()).toEqual(['head.bias', 'head.weight']);
    expect(out.tensors.has('embeddings.cls_token')).toBe(true);
    expect(detectConvention(out.tensors.keys())).toBe('hf-model');
    const back = convertToTimm(out.tensors, 'hf-model').tensors;
    const backbone: RawTensors = new Map([...reference].filter(([k]) => !k.startsWith('head.')));
    expect(differences(back, backbone)).toEqual([]);
  });

  it.each([
    ['hf', 'hf.safetensors'],
    ['torchvision', 'torchvision.safetensors'],
    ['timm', 'timm.safetensors'],
  ] as const)('converting the timm reference to %s and writing it reproduces %s byte for byte', (convention, file) => {
    const out = convertFromTimm(reference, convention);
    const written = serializeSafetensors(out.tensors);
    expect(Buffer.from(written).equals(Buffer.from(fixtureBytes(`vit-micro/${file}`)))).toBe(true);
  });

  it('converts every file to every other convention and back without loss', async () => {
    for (const [file, from] of FILES) {
      const bytes = fixtureBytes(`vit-micro/${file}`);
      const stored = file.endsWith('.npz') ? await parseNpz(bytes) : parseSafetensors(bytes).tensors;
      const timm = convertToTimm(stored, from).tensors;
      for (const to of ['timm', 'hf', 'torchvision', 'jax'] as const) {
        const foreign = convertFromTimm(timm, to, { numHeads: MICRO_HEADS }).tensors;
        // Through the file formats too: safetensors for PyTorch conventions, npz for JAX.
        const reread = to === 'jax' ? await parseNpz(serializeNpz(foreign)) : parseSafetensors(serializeSafetensors(foreign)).tensors;
        expect(differences(convertToTimm(reread, to).tensors, reference), `${file} -> ${to}`).toEqual([]);
      }
    }
  });

  it('writes JAX kernels in their original layouts', async () => {
    const jax = await parseNpz(fixtureBytes('vit-micro/jax.npz'));
    const out = convertFromTimm(reference, 'jax', { numHeads: MICRO_HEADS }).tensors;
    expect(differences(out, jax)).toEqual([]);
  });

  it('refuses to write what a convention cannot hold, and JAX without a head count', () => {
    const withRegisters: RawTensors = new Map([...reference, ['reg_token', { shape: [1, 4, 32], data: new Float32Array(128) }]]);
    expect(() => convertFromTimm(withRegisters, 'hf')).toThrow(ConfigError);
    expect(() => convertFromTimm(withRegisters, 'torchvision')).toThrow(/reg_token/);
    expect(() => convertFromTimm(reference, 'jax')).toThrow(/attention heads/);
  });

  it('reports incomplete query/key/value sets by name', () => {
    const hf = convertFromTimm(reference, 'hf').tensors;
    hf.delete('vit.encoder.layer.1.attention.attention.value.weight');
    expect(() => convertToTimm(hf, 'hf')).toThrow(/vit\.encoder\.layer\.1\.attention\.attention\.value\.weight/);
  });

  it('reads torchvision < 0.13 MLP names (mlp.linear_1 / linear_2)', () => {
    const tv = convertFromTimm(reference, 'torchvision').tensors;
    const old: RawTensors = new Map([...tv].map(([k, v]) => [k.replace('mlp.0.', 'mlp.linear_1.').replace('mlp.3.', 'mlp.linear_2.'), v]));
    expect(differences(convertToTimm(old, 'torchvision').tensors, reference)).toEqual([]);
  });
});

describe('Hugging Face config.json', () => {
  const hfJson = JSON.parse(readFileSync(join(MICRO, 'hf-config.json'), 'utf8')) as Record<string, unknown>;

  it('configFromHF reads the fixture config', () => {
    const c = configFromHF(hfJson);
    expect(c).toMatchObject({ imageSize: [32, 32], patchSize: 8, embedDim: 32, depth: 2, numHeads: 4, mlpDim: 64, numClasses: 10, layerNormEps: 1e-6, qkvBias: true });
    expect(c.labels?.[3]).toBe('class_3');
  });

  it('configToHF writes every field configFromHF reads back', () => {
    const c = configFromHF(hfJson);
    const json = configToHF(c);
    for (const k of ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'layer_norm_eps', 'image_size', 'patch_size', 'qkv_bias', 'id2label', 'label2id', 'architectures', 'model_type', 'hidden_act']) {
      expect(json[k], k).toEqual(hfJson[k]);
    }
    expect(configFromHF(json)).toEqual(c);
  });

  it('rejects other model types and activations, and configs HF cannot express', () => {
    expect(() => configFromHF({ ...hfJson, model_type: 'deit' })).toThrow(/deit/);
    expect(() => configFromHF({ ...hfJson, hidden_act: 'gelu_new' })).toThrow(ConfigError);
    expect(() => configFromHF({ ...hfJson, hidden_size: '32' })).toThrow(/hidden_size/);
    expect(() => configToHF({ ...configFromHF(hfJson), numRegisterTokens: 4 })).toThrow(/register/);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig, type ViTConfig } from '@vitkit/core';
import {
  checkTimmTensors,
  configFromHF,
  configInputFromJson,
  configToHF,
  convertFromTimm,
  convertToTimm,
  detectConvention,
  parseSafetensors,
  prepareCheckpoint,
  serializeSafetensors,
  type Convention,
  type RawCheckpoint,
  type RawTensors,
} from '../src/index.js';
import { differences, FIXTURES } from './helpers.js';

const FAMILY = join(FIXTURES, 'vit-family');
const CASES: [string, Convention][] = [
  ['clip', 'hf-clip'],
  ['deit-distilled', 'hf-deit'],
  ['dinov2-reg', 'hf-dinov2-reg'],
  ['siglip', 'hf-siglip'],
];

function fixture(name: string): { tensors: RawTensors; config: ViTConfig; json: Record<string, unknown> } {
  const json = JSON.parse(readFileSync(join(FAMILY, name, 'config.json'), 'utf8')) as Record<string, unknown>;
  const tensors = parseSafetensors(new Uint8Array(readFileSync(join(FAMILY, name, 'timm.safetensors')))).tensors;
  return { tensors, json, config: resolveConfig(configInputFromJson(json)) };
}

const withoutHead = (t: RawTensors): RawTensors => new Map([...t].filter(([k]) => !k.startsWith('head')));

describe('timm hub config.json of the ViT family', () => {
  it('resolves architecture defaults plus model_args as timm.create_model does', () => {
    expect(fixture('clip').config).toMatchObject({
      imageSize: [32, 32], patchSize: 8, embedDim: 32, depth: 2, numHeads: 2, mlpDim: 128, numClasses: 12,
      preNorm: true, patchEmbedBias: false, activation: 'quick_gelu', layerNormEps: 1e-5, pooling: 'token', layerScaleInit: null,
    });
    expect(fixture('dinov2-reg').config).toMatchObject({
      imageSize: [28, 28], patchSize: 7, mlpDim: 128, numClasses: 0, numRegisterTokens: 4, noEmbedClass: true,
      layerScaleInit: 1e-5, dynamicImageSize: true, layerNormEps: 1e-6, activation: 'gelu', preNorm: false, patchEmbedBias: true,
    });
    expect(fixture('siglip').config).toMatchObject({ classToken: false, pooling: 'map', numClasses: 0, activation: 'gelu', fcNorm: false, finalNorm: true });
    expect(fixture('deit-distilled').config).toMatchObject({ distilled: true, numClasses: 5, embedDim: 32, mlpDim: 128, pooling: 'token' });
  });

  it.each(CASES)('%s: the resolved config describes every tensor of timm.safetensors, and loading infers the same', (name) => {
    const { tensors, config, json } = fixture(name);
    expect(() => checkTimmTensors(tensors, config)).not.toThrow();
    const raw = { tensors, fileConfig: configInputFromJson(json), format: 'safetensors', files: [], metadata: {} } as unknown as RawCheckpoint;
    const prepared = prepareCheckpoint(raw);
    expect(prepared.convention).toBe('timm');
    expect(prepared.config).toEqual(config);
  });

  it('refuses what vitkit cannot build, in one line', () => {
    expect(() => resolveConfig(configInputFromJson({ architecture: 'vit_giant_patch14_reg4_dinov2.lvd142m', num_classes: 0 }))).toThrow(/no SwiGLU MLP \(DINOv2 giant\)/);
    expect(() => configInputFromJson({ architecture: 'vit_base_patch16_clip_224', model_args: { scale_mlp_norm: true, drop_rate: 0.1 } })).toThrow(/scale_mlp_norm=true/);
    expect(() => configInputFromJson({ architecture: 'vit_base_patch16_clip_224', model_args: { act_layer: 'silu' } })).toThrow(ConfigError);
    expect(() => configInputFromJson({ architecture: 'vit_base_patch16_224', global_pool: 'avgmax' })).toThrow(/avgmax/);
    // Harmless and default-valued keys pass.
    expect(configInputFromJson({ architecture: 'vit_base_patch16_clip_224', model_args: { drop_rate: 0.1, proj_bias: true } })).toMatchObject({ preNorm: true });
  });
});

describe('Hugging Face names of the ViT family', () => {
  it.each(CASES)('%s: timm -> %s -> timm is bit-identical (through safetensors), and the names are detected', (name, convention) => {
    const { tensors } = fixture(name);
    // Hugging Face CLIP has no classifier: the fixture's 12-class head (with bias) is refused, the rest round-trips.
    const timm = name === 'clip' ? withoutHead(tensors) : tensors;
    const out = convertFromTimm(timm, convention);
    expect(out.dropped).toEqual([]);
    expect(detectConvention(out.tensors.keys())).toBe(convention);
    const reread = parseSafetensors(serializeSafetensors(out.tensors)).tensors;
    expect(differences(convertToTimm(reread, convention).tensors, timm)).toEqual([]);
  });

  it.each(CASES)('%s: the HF config.json written maps back to the same config', (name, convention) => {
    const { config } = fixture(name);
    const json = configToHF(config, convention);
    const { labels: _a, ...back } = configFromHF(json);
    const { labels: _b, ...want } = config;
    expect(back).toEqual(want);
  });

  it('uses HF names and layouts', () => {
    const clip = convertFromTimm(withoutHead(fixture('clip').tensors), 'hf-clip').tensors;
    expect(clip.get('vision_model.embeddings.class_embedding')!.shape).toEqual([32]);
    expect(clip.get('vision_model.embeddings.position_embedding.weight')!.shape).toEqual([17, 32]);
    expect(clip.has('vision_model.pre_layrnorm.weight')).toBe(true);
    const siglip = convertFromTimm(fixture('siglip').tensors, 'hf-siglip').tensors;
    expect(siglip.get('vision_model.head.attention.in_proj_weight')!.shape).toEqual([96, 32]);
    expect(siglip.get('vision_model.head.probe')!.shape).toEqual([1, 1, 32]);
    const dino = convertFromTimm(fixture('dinov2-reg').tensors, 'hf-dinov2-reg').tensors;
    // HF keeps a class position (zero here: timm folded it into cls_token).
    expect(dino.get('embeddings.position_embeddings')!.shape).toEqual([1, 17, 32]);
    expect(dino.get('encoder.layer.1.layer_scale2.lambda1')!.shape).toEqual([32]);
    const deit = convertFromTimm(fixture('deit-distilled').tensors, 'hf-deit').tensors;
    expect(deit.has('distillation_classifier.weight') && deit.has('deit.embeddings.distillation_token')).toBe(true);
  });

  it('folds a Hugging Face DINOv2 class position embedding into the timm class token', () => {
    const { tensors } = fixture('dinov2-reg');
    const hf = convertFromTimm(tensors, 'hf-dinov2-reg').tensors;
    const pos = hf.get('embeddings.position_embeddings')!;
    const data = (pos.data as Float32Array).slice();
    data.fill(0.25, 0, 32);
    hf.set('embeddings.position_embeddings', { shape: pos.shape, data });
    const back = convertToTimm(hf, 'hf-dinov2-reg').tensors;
    const cls = tensors.get('cls_token')!.data as Float32Array;
    expect([...(back.get('cls_token')!.data as Float32Array)]).toEqual([...cls].map((v) => Math.fround(v + 0.25)));
    expect(differences(new Map([['pos_embed', back.get('pos_embed')!]]), new Map([['pos_embed', tensors.get('pos_embed')!]]))).toEqual([]);
  });

  it('CLIP: visual_projection is a bias-free head; a classifier with bias is refused; a full CLIPModel drops its text tower', () => {
    const { tensors } = fixture('clip');
    expect(() => convertFromTimm(tensors, 'hf-clip')).toThrow(/CLIP has no classifier/);
    const projected: RawTensors = new Map([...tensors, ['head.bias', { shape: [12], data: new Float32Array(12) }]]);
    const hf = convertFromTimm(projected, 'hf-clip').tensors;
    expect(hf.get('visual_projection.weight')!.shape).toEqual([12, 32]);
    expect(hf.has('head.bias')).toBe(false);
    hf.set('text_model.embeddings.token_embedding.weight', { shape: [2, 2], data: new Float32Array(4) });
    hf.set('logit_scale', { shape: [], data: new Float32Array(1) });
    const back = convertToTimm(hf, 'hf-clip');
    expect(back.dropped.sort()).toEqual(['logit_scale', 'text_model.embeddings.token_embedding.weight']);
    expect(differences(back.tensors, projected)).toEqual([]);
  });

  it('refuses what a Hugging Face class cannot hold', () => {
    const { config } = fixture('siglip');
    expect(() => convertFromTimm(fixture('deit-distilled').tensors, 'hf-siglip')).toThrow(ConfigError);
    expect(() => configToHF({ ...config, numClasses: 3 }, 'hf-siglip')).toThrow(/SiglipVisionModel cannot express numClasses 3/);
    expect(() => configToHF(fixture('clip').config, 'hf-dinov2')).toThrow(/Dinov2Model cannot express/);
    expect(() => configToHF(fixture('deit-distilled').config, 'hf')).toThrow(/distilled/);
  });

  it('reads transformers family configs', () => {
    expect(configFromHF({ model_type: 'clip', projection_dim: 512, vision_config: { hidden_size: 64, num_attention_heads: 2, intermediate_size: 256, num_hidden_layers: 2, image_size: 32, patch_size: 8 } })).toMatchObject({
      embedDim: 64, numClasses: 512, activation: 'quick_gelu', layerNormEps: 1e-5, preNorm: true, patchEmbedBias: false,
    });
    expect(configFromHF({ model_type: 'siglip_vision_model', architectures: ['SiglipVisionModel'], image_size: 32, patch_size: 8 })).toMatchObject({ activation: 'gelu_tanh', pooling: 'map', classToken: false });
    expect(() => configFromHF({ model_type: 'dinov2', use_swiglu_ffn: true, image_size: 28, patch_size: 14 })).toThrow(/SwiGLU/);
    expect(() => configFromHF({ model_type: 'dinov2', architectures: ['Dinov2ForImageClassification'] })).toThrow(/timm has no such head/);
  });
});

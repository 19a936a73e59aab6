import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { presetConfig, setupBackend, StateDictError, type ViTConfigInput } from '@vitkit/core';
import { VisionTransformer, createViT } from '../src/index.js';
import { loadTimmState, microConfig } from './helpers/fixtures.js';

describe('VisionTransformer state dict', () => {
  beforeAll(async () => {
    await setupBackend('cpu');
  });

  it('has exactly the parameter names and PyTorch shapes of the timm checkpoint', () => {
    const model = new VisionTransformer(microConfig(), { seed: 0 });
    const timm = loadTimmState();
    const ours = model.stateDict();
    expect([...ours.keys()].sort()).toEqual([...timm.keys()].sort());
    for (const [name, t] of timm) expect(ours.get(name)!.shape, name).toEqual(t.shape);
    tf.dispose([...timm.values(), ...ours.values()]);
    model.dispose();
  });

  it('round-trips stateDict() -> loadStateDict() bit-identically', () => {
    const a = new VisionTransformer(microConfig(), { seed: 3 });
    const b = new VisionTransformer(microConfig(), { seed: 4 });
    const sa = a.stateDict();
    b.loadStateDict(sa);
    const sb = b.stateDict();
    for (const [name, t] of sa) {
      expect(Array.from(sb.get(name)!.dataSync()), name).toEqual(Array.from(t.dataSync()));
    }
    tf.dispose([...sa.values(), ...sb.values()]);
    a.dispose();
    b.dispose();
  });

  it('loads the timm checkpoint and gives it back unchanged', () => {
    const model = new VisionTransformer(microConfig(), { seed: 0 });
    const timm = loadTimmState();
    model.loadStateDict(timm);
    const back = model.stateDict();
    for (const [name, t] of timm) expect(Array.from(back.get(name)!.dataSync()), name).toEqual(Array.from(t.dataSync()));
    tf.dispose([...timm.values(), ...back.values()]);
    model.dispose();
  });

  it('marks biases, norms, tokens and position embeddings as no-decay', () => {
    const model = createViT({ ...microConfig(), numRegisterTokens: 2 }, {}, { seed: 0 });
    const noDecay = [...model.namedParameters()].filter(([, p]) => !p.decay).map(([n]) => n);
    expect(noDecay.every((n) => /(bias|norm\d?\.weight|cls_token|reg_token|pos_embed)$/.test(n))).toBe(true);
    expect(noDecay).toContain('cls_token');
    expect(noDecay).toContain('reg_token');
    expect(noDecay).toContain('pos_embed');
    const decay = [...model.namedParameters()].filter(([, p]) => p.decay).map(([n]) => n);
    expect(decay).toContain('patch_embed.proj.weight');
    expect(decay).toContain('blocks.0.attn.qkv.weight');
    expect(decay).toContain('head.weight');
    expect(decay.every((n) => n.endsWith('.weight') && !/norm/.test(n))).toBe(true);
    model.dispose();
  });

  it('rejects a checkpoint for another architecture with a StateDictError', () => {
    const model = new VisionTransformer({ ...microConfig(), numClasses: 5 }, { seed: 0 });
    const timm = loadTimmState();
    expect(() => model.loadStateDict(timm)).toThrow(StateDictError);
    tf.dispose([...timm.values()]);
    model.dispose();
  });

  it('builds the same weights from the same seed and different ones from another seed', () => {
    const a = new VisionTransformer(microConfig(), { seed: 11 });
    const b = new VisionTransformer(microConfig(), { seed: 11 });
    const c = new VisionTransformer(microConfig(), { seed: 12 });
    for (const name of ['pos_embed', 'patch_embed.proj.weight', 'blocks.1.mlp.fc2.weight', 'head.weight']) {
      const [va, vb, vc] = [a, b, c].map((m) => Array.from(m.variables().get(name)!.dataSync()));
      expect(vb, name).toEqual(va);
      expect(vc, name).not.toEqual(va);
    }
    [a, b, c].forEach((m) => m.dispose());
  });

  // Checkpoints, optimizer state and gradient lists depend on this order: timm's, input layer → blocks → head.
  const block = (i: number): string[] =>
    ['norm1.weight', 'norm1.bias', 'attn.qkv.weight', 'attn.qkv.bias', 'attn.proj.weight', 'attn.proj.bias', 'norm2.weight', 'norm2.bias']
      .concat(['mlp.fc1.weight', 'mlp.fc1.bias', 'mlp.fc2.weight', 'mlp.fc2.bias'])
      .map((n) => `blocks.${i}.${n}`);

  const orders: [string, ViTConfigInput, string[]][] = [
    [
      'vit_tiny, token pooling',
      { depth: 2, imageSize: 32, numClasses: 10 },
      ['cls_token', 'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias', ...block(0), ...block(1), 'norm.weight', 'norm.bias', 'head.weight', 'head.bias'],
    ],
    [
      'vit_tiny with registers, mean pooling and no classifier',
      { depth: 1, imageSize: 32, numClasses: 0, pooling: 'mean', numRegisterTokens: 2 },
      ['cls_token', 'reg_token', 'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias', ...block(0), 'fc_norm.weight', 'fc_norm.bias'],
    ],
  ];
  for (const [what, overrides, expected] of orders) {
    it(`keeps the timm parameter order in namedParameters and stateDict (${what})`, () => {
      const model = new VisionTransformer(presetConfig('vit_tiny_patch16_224', overrides), { seed: 0 });
      expect([...model.namedParameters().keys()]).toEqual(expected);
      const sd = model.stateDict();
      expect([...sd.keys()]).toEqual(expected);
      tf.dispose([...sd.values()]);
      model.dispose();
    });
  }

  it('registers input layer, encoder and head plainly: train/eval and dispose reach all three', () => {
    const model = new VisionTransformer(microConfig(), { seed: 0 });
    const parts = [model.inputLayer, model.encoder, model.head, model.head.norm!, model.head.head!];
    model.train();
    for (const p of parts) expect(p.training).toBe(true);
    model.eval();
    for (const p of parts) expect(p.training).toBe(false);
    const vars = [...model.variables().values()];
    model.dispose();
    for (const p of parts) expect(p.isDisposed).toBe(true);
    expect(vars.every((v) => v.isDisposed)).toBe(true);
  });
});

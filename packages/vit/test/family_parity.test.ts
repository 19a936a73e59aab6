// Forward parity with timm for the ViT family (DeiT distilled, DINOv2 with registers,
// CLIP, SigLIP): logits, pre-logits features and all tokens after the final norm, to 1e-4,
// on cpu and wasm; the models are built by loadViT from the timm hub config.json, and
// from each Hugging Face convention that can hold the checkpoint.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '@vitkit/core';
import { configToHF, convertFromTimm, parseSafetensors, serializeSafetensors, type Convention } from '@vitkit/weights';
import { disposeViTOutput, loadViT, type VisionTransformer } from '../src/index.js';
import { FAMILY_CASES, familyJson, familyNpy, familyPath, type FamilyCase } from './helpers/family.js';
import { maxAbsDiff } from './helpers/fixtures.js';

const TOL = 1e-4;

/** The Hugging Face conventions each fixture converts to (HF CLIP has no 12-class head with bias). */
const HF: Record<FamilyCase, Convention[]> = {
  'deit-distilled': ['hf-deit'],
  'dinov2-reg': ['hf-dinov2-reg'],
  clip: [],
  siglip: ['hf-siglip'],
};

/** Max abs errors seen, printed at the end (for the record). */
const observed: string[] = [];

function check(label: string, actual: tf.Tensor | undefined, expected: tf.Tensor): void {
  expect(actual, `${label} was not returned`).toBeDefined();
  expect(actual!.shape, label).toEqual(expected.shape);
  const err = maxAbsDiff(actual!, expected);
  observed.push(`${label}: ${err.toExponential(2)}`);
  expect(err, label).toBeLessThan(TOL);
}

/** logits, features, tokens (and logits2 for dinov2-reg) against the fixture. */
function checkModel(model: VisionTransformer, name: FamilyCase, label: string): void {
  const x = familyNpy(name, 'input_nhwc.npy');
  const out = model.forward(x, { returnTokens: true });
  for (const [field, file] of [['logits', 'logits.npy'], ['features', 'features.npy'], ['tokens', 'tokens.npy']] as const) {
    const expected = familyNpy(name, file);
    check(`${label} ${field}`, out[field], expected);
    expected.dispose();
  }
  disposeViTOutput(out);
  x.dispose();
  if (name === 'dinov2-reg') {
    const x2 = familyNpy(name, 'input2_nhwc.npy');
    const expected = familyNpy(name, 'logits2.npy');
    expect(x2.shape).toEqual([1, 35, 42, 3]);
    const logits = model.predict(x2);
    check(`${label} logits2 (35x42)`, logits, expected);
    tf.dispose([x2, expected, logits]);
  }
}

afterAll(() => {
  console.log(`family parity, max abs errors:\n  ${observed.join('\n  ')}`);
});

describe.each(['cpu', 'wasm'] as const)('ViT family parity with timm on %s', (backend) => {
  beforeAll(async () => {
    await setupBackend(backend);
  });

  it.each(FAMILY_CASES)('%s: timm.safetensors + timm hub config.json', async (name) => {
    const model = await loadViT(familyPath(name, 'timm.safetensors'), { config: familyPath(name, 'config.json'), cache: false });
    const before = tf.memory().numTensors;
    checkModel(model, name, `${backend} ${name}`);
    expect(tf.memory().numTensors).toBe(before + (name === 'dinov2-reg' ? 1 : 0)); // the cached 5x6 position embedding
    model.dispose();
  });

  it.each(FAMILY_CASES.flatMap((name) => HF[name].map((c) => [name, c] as const)))('%s converted to %s gives the same outputs', async (name, convention) => {
    const timm = parseSafetensors(new Uint8Array(readFileSync(familyPath(name, 'timm.safetensors')))).tensors;
    const reference = await loadViT(familyPath(name, 'timm.safetensors'), { config: familyJson(name), cache: false });
    const hfJson = configToHF(reference.config, convention);
    reference.dispose();
    const bytes = serializeSafetensors(convertFromTimm(timm, convention).tensors);
    const model = await loadViT(bytes, { config: hfJson, cache: false });
    checkModel(model, name, `${backend} ${name} via ${convention}`);
    model.dispose();
  });
});

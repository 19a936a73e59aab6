// The ViT-family reference fixtures (fixtures/reference/vit-family): one micro model per
// family, made by timm's own code. A missing fixture is an error, never a skip.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { parseNpy } from '@vitkit/core';

export const FAMILY_DIR = fileURLToPath(new URL('../../../../fixtures/reference/vit-family/', import.meta.url));
export const FAMILY_CASES = ['deit-distilled', 'dinov2-reg', 'clip', 'siglip'] as const;
export type FamilyCase = (typeof FAMILY_CASES)[number];

export const familyPath = (name: FamilyCase, file: string): string => `${FAMILY_DIR}${name}/${file}`;

export function familyNpy(name: FamilyCase, file: string): tf.Tensor {
  const a = parseNpy(new Uint8Array(readFileSync(familyPath(name, file))));
  return tf.tensor(a.data, a.shape, 'float32');
}

export function familyJson(name: FamilyCase): Record<string, unknown> {
  return JSON.parse(readFileSync(familyPath(name, 'config.json'), 'utf8')) as Record<string, unknown>;
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNpy, type NpyArray } from '@vitkit/core';

const here = dirname(fileURLToPath(import.meta.url));
export const REFERENCE_DIR = join(here, '../../../fixtures/reference/preprocess-chelsea');
export const LOCAL_FIXTURES = join(here, 'fixtures');

/** Reads a fixture file; a missing fixture fails the test (never skips it). */
export function fixtureBytes(path: string): Uint8Array {
  if (!existsSync(path)) throw new Error(`fixture missing: ${path} (restore fixtures/ from git; see test/fixtures/generate.py for local ones)`);
  return new Uint8Array(readFileSync(path));
}

export function fixtureNpy(path: string): NpyArray {
  return parseNpy(fixtureBytes(path));
}

/** Max and mean absolute difference of two equally long arrays. */
export function diffStats(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number } {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > max) max = d;
    sum += d;
  }
  return { max, mean: sum / a.length };
}

/** Model values back to pixel levels: (x * std + mean) * 255. */
export function toLevels(x: ArrayLike<number>, mean: readonly number[], std: readonly number[]): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i]! * std[i % 3]! + mean[i % 3]!) * 255;
  return out;
}

/** The three reference variants in preprocess-chelsea/manifest.json, with the mean/std the manifest states. */
export const CHELSEA_VARIANTS = [
  { preset: 'torchvision', file: 'torchvision_vit_b_16.npy', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  { preset: 'timm', file: 'timm_vit_224.npy', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  { preset: 'hf', file: 'hf_vit_224.npy', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
] as const;

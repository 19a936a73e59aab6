import { ConfigError, type Rng } from '@vitkit/core';
import type { Image8 } from '../image.js';
import * as ops from './ops.js';

/** One op of a policy: its magnitude for bin i of `bins`, and whether a random sign applies. */
interface OpDef {
  name: string;
  magnitude(bin: number, bins: number, image: Image8): number;
  signed: boolean;
  apply(image: Image8, magnitude: number, fill: readonly number[]): Image8;
}

const lin = (hi: number, lo = 0) => (bin: number, bins: number): number => (bins <= 1 ? lo : lo + ((hi - lo) * bin) / (bins - 1));

function commonOps(shearMax: number, translate: (img: Image8, axis: 'x' | 'y') => number, rotateMax: number, enhanceMax: number, posterizeSpan: number): OpDef[] {
  return [
    { name: 'Identity', magnitude: () => 0, signed: false, apply: (img) => img },
    { name: 'ShearX', magnitude: lin(shearMax), signed: true, apply: (img, m, f) => ops.shearX(img, m, f) },
    { name: 'ShearY', magnitude: lin(shearMax), signed: true, apply: (img, m, f) => ops.shearY(img, m, f) },
    { name: 'TranslateX', magnitude: (b, n, img) => lin(translate(img, 'x'))(b, n), signed: true, apply: (img, m, f) => ops.translateX(img, m, f) },
    { name: 'TranslateY', magnitude: (b, n, img) => lin(translate(img, 'y'))(b, n), signed: true, apply: (img, m, f) => ops.translateY(img, m, f) },
    { name: 'Rotate', magnitude: lin(rotateMax), signed: true, apply: (img, m, f) => ops.rotate(img, m, f) },
    { name: 'Brightness', magnitude: lin(enhanceMax), signed: true, apply: (img, m) => ops.brightness(img, 1 + m) },
    { name: 'Color', magnitude: lin(enhanceMax), signed: true, apply: (img, m) => ops.color(img, 1 + m) },
    { name: 'Contrast', magnitude: lin(enhanceMax), signed: true, apply: (img, m) => ops.contrast(img, 1 + m) },
    { name: 'Sharpness', magnitude: lin(enhanceMax), signed: true, apply: (img, m) => ops.sharpness(img, 1 + m) },
    {
      name: 'Posterize',
      // torchvision: 8 - round(i / ((bins - 1) / span)) bits.
      magnitude: (b, n) => 8 - Math.round(b / ((Math.max(2, n) - 1) / posterizeSpan)),
      signed: false,
      apply: (img, m) => ops.posterize(img, m),
    },
    { name: 'Solarize', magnitude: lin(0, 255), signed: false, apply: (img, m) => ops.solarize(img, m) },
    { name: 'AutoContrast', magnitude: () => 0, signed: false, apply: (img) => ops.autocontrast(img) },
    { name: 'Equalize', magnitude: () => 0, signed: false, apply: (img) => ops.equalize(img) },
  ];
}

/** torchvision TrivialAugmentWide's op table (31 bins, wide ranges). */
const TRIVIAL_WIDE = commonOps(0.99, () => 32, 135, 0.99, 6);
/** torchvision RandAugment's op table (translations up to 150/331 of the side). */
const RAND_AUGMENT = commonOps(0.3, (img, axis) => (150 / 331) * (axis === 'x' ? img.width : img.height), 30, 0.9, 4);

export type AutoAugmentPolicy = 'none' | 'trivial' | 'randaugment' | { kind: 'randaugment'; numOps?: number; magnitude?: number; bins?: number } | { kind: 'trivial'; bins?: number };

function applyOp(img: Image8, op: OpDef, bin: number, bins: number, rng: Rng, fill: readonly number[]): Image8 {
  let m = op.magnitude(bin, bins, img);
  if (op.signed && rng.next() < 0.5) m = -m;
  return op.apply(img, m, fill);
}

/**
 * Applies an automatic augmentation policy to an 8-bit RGB image:
 * TrivialAugmentWide (one random op at a random magnitude) or RandAugment
 * (numOps random ops, default 2, at a fixed magnitude bin, default 9 of 31).
 */
export function autoAugment(image: Image8, rng: Rng, policy: AutoAugmentPolicy, fill: readonly number[] = [0, 0, 0]): Image8 {
  if (policy === 'none') return image;
  const p = typeof policy === 'string' ? { kind: policy } : policy;
  const bins = ('bins' in p ? p.bins : undefined) ?? 31;
  if (!Number.isInteger(bins) || bins < 2) throw new ConfigError(`augmentation bins must be an integer >= 2, got ${bins}`);
  if (p.kind === 'trivial') {
    const op = TRIVIAL_WIDE[rng.int(TRIVIAL_WIDE.length)]!;
    return applyOp(image, op, rng.int(bins), bins, rng, fill);
  }
  if (p.kind === 'randaugment') {
    const numOps = ('numOps' in p ? p.numOps : undefined) ?? 2;
    const magnitude = ('magnitude' in p ? p.magnitude : undefined) ?? 9;
    if (!Number.isInteger(numOps) || numOps < 0) throw new ConfigError(`randaugment numOps must be an integer >= 0, got ${numOps}`);
    if (!Number.isInteger(magnitude) || magnitude < 0 || magnitude >= bins) throw new ConfigError(`randaugment magnitude must be an integer in [0, ${bins}), got ${magnitude}`);
    let img = image;
    for (let i = 0; i < numOps; i++) img = applyOp(img, RAND_AUGMENT[rng.int(RAND_AUGMENT.length)]!, magnitude, bins, rng, fill);
    return img;
  }
  throw new ConfigError(`unknown augmentation policy ${JSON.stringify(policy)}`, 'use none, trivial or randaugment');
}

/** Names of the ops a policy draws from, for logs and docs. */
export function policyOps(kind: 'trivial' | 'randaugment'): string[] {
  return (kind === 'trivial' ? TRIVIAL_WIDE : RAND_AUGMENT).map((o) => o.name);
}

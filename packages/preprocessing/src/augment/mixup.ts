import { ConfigError, ShapeError, type Rng } from '@vitkit/core';
import type { FloatArray } from '../image.js';
import { beta, randint } from './sampling.js';

/** timm's Mixup defaults: mixup alpha 0.8, cutmix alpha 1.0, always mix, switch 50/50, label smoothing 0.1. */
export interface MixupOptions {
  /** Beta(alpha, alpha) for mixup's lambda; 0 disables mixup (default 0.8). */
  mixupAlpha?: number;
  /** Beta(alpha, alpha) for cutmix's lambda; 0 disables cutmix (default 1.0). */
  cutmixAlpha?: number;
  /** Probability of mixing a batch at all (default 1). */
  prob?: number;
  /** When both are enabled, probability of cutmix over mixup (default 0.5). */
  switchProb?: number;
  /** Label smoothing folded into the soft targets (default 0.1). */
  labelSmoothing?: number;
}

export interface MixupResult {
  /** The mixed batch, same shape as the input [N, H, W, C]. */
  images: FloatArray;
  /** Soft targets [N, numClasses], each row summing to 1. */
  targets: Float32Array;
  /** Weight of each sample's own label (after cutmix's area correction). */
  lambda: number;
  mode: 'mixup' | 'cutmix' | 'none';
}

function checkRate(name: string, v: number, max = 1): void {
  if (!(v >= 0 && v <= max)) throw new ConfigError(`${name} must be in [0, ${max}], got ${v}`);
}

/**
 * timm's batch-mode Mixup/CutMix: every sample i is mixed with sample
 * N-1-i (the batch reversed) using one lambda for the batch. Mixup blends
 * whole images; cutmix pastes a box whose area sets lambda. Targets are
 * lambda * smooth(one_hot(y)) + (1 - lambda) * smooth(one_hot(y reversed)).
 * The input batch is not modified.
 */
export function mixupCutmix(batch: FloatArray, labels: ArrayLike<number>, numClasses: number, rng: Rng, options: MixupOptions = {}): MixupResult {
  if (batch.shape.length !== 4) throw new ShapeError(`batch must be [N, H, W, C], got [${batch.shape.join(', ')}]`);
  const [n, h, w, c] = batch.shape as [number, number, number, number];
  if (batch.data.length !== n * h * w * c) throw new ShapeError(`batch data has ${batch.data.length} values but shape needs ${n * h * w * c}`);
  if (labels.length !== n) throw new ShapeError(`got ${labels.length} labels for ${n} images`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new ConfigError(`numClasses must be a positive integer, got ${numClasses}`);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) throw new ConfigError(`label ${y} of sample ${i} is not in [0, ${numClasses})`);
  }
  const mixupAlpha = options.mixupAlpha ?? 0.8;
  const cutmixAlpha = options.cutmixAlpha ?? 1.0;
  const prob = options.prob ?? 1;
  const switchProb = options.switchProb ?? 0.5;
  const smoothing = options.labelSmoothing ?? 0.1;
  checkRate('prob', prob);
  checkRate('switchProb', switchProb);
  checkRate('labelSmoothing', smoothing);
  if (!(mixupAlpha >= 0) || !(cutmixAlpha >= 0)) throw new ConfigError('mixupAlpha and cutmixAlpha must be >= 0');

  let lambda = 1;
  let mode: MixupResult['mode'] = 'none';
  if ((mixupAlpha > 0 || cutmixAlpha > 0) && rng.next() < prob) {
    const useCutmix = mixupAlpha > 0 && cutmixAlpha > 0 ? rng.next() < switchProb : cutmixAlpha > 0;
    mode = useCutmix ? 'cutmix' : 'mixup';
    lambda = useCutmix ? beta(rng, cutmixAlpha, cutmixAlpha) : beta(rng, mixupAlpha, mixupAlpha);
  }

  const data = batch.data.slice();
  const per = h * w * c;
  if (mode === 'mixup' && lambda !== 1) {
    for (let i = 0; i < n; i++) {
      const j = n - 1 - i;
      for (let k = 0; k < per; k++) data[i * per + k] = batch.data[i * per + k]! * lambda + batch.data[j * per + k]! * (1 - lambda);
    }
  } else if (mode === 'cutmix' && lambda !== 1) {
    const cutRatio = Math.sqrt(1 - lambda);
    const cutH = Math.trunc(h * cutRatio);
    const cutW = Math.trunc(w * cutRatio);
    const cy = randint(rng, 0, h);
    const cx = randint(rng, 0, w);
    const clip = (v: number, hi: number): number => Math.min(hi, Math.max(0, v));
    const y0 = clip(cy - Math.floor(cutH / 2), h);
    const y1 = clip(cy + Math.floor(cutH / 2), h);
    const x0 = clip(cx - Math.floor(cutW / 2), w);
    const x1 = clip(cx + Math.floor(cutW / 2), w);
    for (let i = 0; i < n; i++) {
      const j = n - 1 - i;
      for (let y = y0; y < y1; y++) {
        const a = i * per + (y * w + x0) * c;
        const b = j * per + (y * w + x0) * c;
        data.set(batch.data.subarray(b, b + (x1 - x0) * c), a);
      }
    }
    lambda = 1 - ((y1 - y0) * (x1 - x0)) / (h * w);
  }

  const off = smoothing / numClasses;
  const on = 1 - smoothing + off;
  const targets = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    const row = targets.subarray(i * numClasses, (i + 1) * numClasses);
    for (let k = 0; k < numClasses; k++) row[k] = off;
    row[labels[i]!] = row[labels[i]!]! + (on - off) * lambda;
    row[labels[n - 1 - i]!] = row[labels[n - 1 - i]!]! + (on - off) * (1 - lambda);
  }
  return { images: { data, shape: [n, h, w, c] }, targets, lambda, mode };
}

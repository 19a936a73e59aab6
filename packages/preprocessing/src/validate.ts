import { ConfigError, MAX_IMAGE_SIDE } from '@vitkit/core';
import { checkPositiveInt } from './geometry.js';
import { isInterpolation } from './resize/filters.js';
import type { PreprocessSpec } from './spec.js';

function triple(what: string, v: unknown, positive: boolean): void {
  if (!Array.isArray(v) || v.length !== 3 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x) || (positive && x <= 0))) {
    throw new ConfigError(`${what} must be 3 finite numbers${positive ? ' > 0' : ''}, got ${JSON.stringify(v)}`, 'give one value per RGB channel');
  }
}

/** Throws a ConfigError naming the first field of `spec` that cannot work. */
export function validateSpec(spec: PreprocessSpec): void {
  if (typeof spec !== 'object' || spec === null) throw new ConfigError('preprocessing spec must be an object');
  const r = spec.resize;
  if (r !== undefined) {
    if (!isInterpolation(r.interpolation)) {
      throw new ConfigError(`unknown interpolation ${JSON.stringify(r.interpolation)}`, 'use nearest, box, bilinear, hamming, bicubic or lanczos');
    }
    switch (r.kind) {
      case 'shortest-edge':
        checkPositiveInt('resize.size', r.size);
        if (r.maxSize !== undefined) checkPositiveInt('resize.maxSize', r.maxSize);
        break;
      case 'exact':
      case 'keep-ratio':
        checkPositiveInt('resize.height', r.height);
        checkPositiveInt('resize.width', r.width);
        if (r.kind === 'keep-ratio' && r.fit !== 'shorter' && r.fit !== 'longer') throw new ConfigError(`resize.fit must be "shorter" or "longer"`);
        break;
      default:
        throw new ConfigError(`unknown resize kind ${JSON.stringify((r as { kind: unknown }).kind)}`, 'use shortest-edge, exact or keep-ratio');
    }
  }
  const c = spec.crop;
  if (c !== undefined) {
    checkPositiveInt('crop.height', c.height);
    checkPositiveInt('crop.width', c.width);
  }
  // Each size becomes an image buffer: refuse sides no backend tensor can hold (see @vitkit/core limits).
  const sides = [
    ...(r?.kind === 'shortest-edge' ? [['resize.size', r.size], ['resize.maxSize', r.maxSize]] : r ? [['resize.height', r.height], ['resize.width', r.width]] : []),
    ...(c ? [['crop.height', c.height], ['crop.width', c.width]] : []),
  ] as [string, number | undefined][];
  for (const [what, side] of sides) {
    if (side !== undefined && side > MAX_IMAGE_SIDE) {
      throw new ConfigError(`${what} ${side} is above the limit of ${MAX_IMAGE_SIDE} pixels`, 'an image [side, side, 3] must fit one float32 tensor (2 GiB); use a smaller size');
    }
  }
  if (c !== undefined) {
    if (c.convention !== 'torchvision' && c.convention !== 'hf') throw new ConfigError('crop.convention must be "torchvision" or "hf"');
    if (c.fill !== undefined) triple('crop.fill', c.fill, false);
  }
  if (spec.rescale !== undefined && (typeof spec.rescale !== 'number' || !Number.isFinite(spec.rescale) || spec.rescale <= 0)) {
    throw new ConfigError(`rescale must be a number > 0, got ${JSON.stringify(spec.rescale)}`);
  }
  if ((spec.mean === undefined) !== (spec.std === undefined)) throw new ConfigError('give both mean and std, or neither');
  if (spec.mean !== undefined) triple('mean', spec.mean, false);
  if (spec.std !== undefined) triple('std', spec.std, true);
}

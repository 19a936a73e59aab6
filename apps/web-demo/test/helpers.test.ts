import { describe, expect, it } from 'vitest';
import { colormap, minMaxNormalize } from '../src/attention/colormap.js';
import { selectMap } from '../src/attention/select.js';
import { presetOption } from '../src/worker/presets.js';
import { fileRole } from '../src/ui/files.js';
import type { AttentionMaps } from '../src/worker/protocol.js';

describe('selectMap', () => {
  // 2 layers x 2 heads x 4 patches, value = 100 * layer + 10 * head + patch.
  const perHead = new Float32Array(16).map((_, i) => 100 * Math.floor(i / 8) + 10 * (Math.floor(i / 4) % 2) + (i % 4));
  const maps: AttentionMaps = { grid: [2, 2], depth: 2, heads: 2, query: 'cls', perHead, rollout: Float32Array.of(9, 8, 7, 6), available: true };

  it('picks the rollout, one head (1-based), or the mean of a layer’s heads', () => {
    expect([...selectMap(maps, { mode: 'rollout' })]).toEqual([9, 8, 7, 6]);
    expect([...selectMap(maps, { mode: 'layer', layer: 2, head: 1 })]).toEqual([100, 101, 102, 103]);
    expect([...selectMap(maps, { mode: 'layer', layer: 1, head: 2 })]).toEqual([10, 11, 12, 13]);
    expect([...selectMap(maps, { mode: 'layer', layer: 2, head: 0 })]).toEqual([105, 106, 107, 108]);
  });

  it('clamps out-of-range layers and heads instead of reading past the data', () => {
    expect([...selectMap(maps, { mode: 'layer', layer: 9, head: 9 })]).toEqual([110, 111, 112, 113]);
  });
});

describe('colormap', () => {
  it('goes from near-black to pale yellow and clamps', () => {
    expect(colormap(0)).toEqual([0, 0, 4]);
    expect(colormap(1)).toEqual([252, 255, 164]);
    expect(colormap(-5)).toEqual(colormap(0));
    expect(colormap(Number.NaN)).toEqual(colormap(0));
  });

  it('min-max normalizes, and a flat map becomes zeros', () => {
    expect([...minMaxNormalize([2, 4, 3])]).toEqual([0, 1, 0.5]);
    expect([...minMaxNormalize([5, 5])]).toEqual([0, 0]);
  });
});

describe('presetOption', () => {
  it('names the ecosystem presets for square models and stretches otherwise', () => {
    expect(presetOption('timm', [224, 224])).toBe('timm');
    expect(presetOption('timm', [32, 48])).toMatchObject({ do_resize: true, size: { height: 32, width: 48 }, image_mean: [0.5, 0.5, 0.5] });
    expect(presetOption('fashion-mnist', [28, 28])).toMatchObject({ size: { height: 28, width: 28 }, image_mean: [0.286, 0.286, 0.286], image_std: [0.353, 0.353, 0.353] });
    expect(presetOption('unit', [28, 28])).toMatchObject({ do_rescale: true, do_normalize: false });
    expect(presetOption('nope', [28, 28])).toBeUndefined();
  });
});

describe('fileRole', () => {
  const file = (name: string, type = ''): File => new File([new Uint8Array(1)], name, { type });
  it('sends checkpoints and configs to the model, images and .npy to the input', () => {
    expect(fileRole(file('model.safetensors'))).toBe('model');
    expect(fileRole(file('config.json', 'application/json'))).toBe('model');
    expect(fileRole(file('weights.pt'))).toBe('model');
    expect(fileRole(file('cat.jpg', 'image/jpeg'))).toBe('input');
    expect(fileRole(file('x.npy'))).toBe('input');
    expect(fileRole(file('notes.txt', 'text/plain'))).toBe('unknown');
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError } from '@vitkit/core';
import {
  cropPlan,
  detectConfigKind,
  planFor,
  preprocess,
  presetSpec,
  resizedSize,
  roundHalfEven,
  specFromConfig,
  specFromHfConfig,
  specFromTimmConfig,
} from '../src/index.js';

describe('output sizes follow each ecosystem', () => {
  it('shortest edge truncates like torchvision: 451x300 -> 384x256 and 372x248', () => {
    // int(256 * 451 / 300) = int(384.85) = 384; int(248 * 451 / 300) = int(372.83) = 372.
    expect(resizedSize({ kind: 'shortest-edge', size: 256, interpolation: 'bilinear' }, 451, 300)).toEqual([384, 256]);
    expect(resizedSize({ kind: 'shortest-edge', size: 248, interpolation: 'bicubic' }, 451, 300)).toEqual([372, 248]);
    expect(resizedSize({ kind: 'shortest-edge', size: 248, interpolation: 'bicubic' }, 300, 451)).toEqual([248, 372]);
    // torchvision max_size: longer side capped, shorter int(max * short / long).
    // 384 > 350: short = int(350 * 256 / 384) = int(233.3) = 233.
    expect(resizedSize({ kind: 'shortest-edge', size: 256, maxSize: 350, interpolation: 'bilinear' }, 451, 300)).toEqual([350, 233]);
  });

  it("timm ResizeKeepRatio rounds half to even, fitting the shorter or longer side", () => {
    // 451x300 to 248x248: ratio = min(300/248, 451/248) -> width round(451 / (300/248)) = round(372.83) = 373.
    expect(resizedSize({ kind: 'keep-ratio', height: 248, width: 248, fit: 'shorter', interpolation: 'bicubic' }, 451, 300)).toEqual([373, 248]);
    expect(resizedSize({ kind: 'keep-ratio', height: 248, width: 248, fit: 'longer', interpolation: 'bicubic' }, 451, 300)).toEqual([248, 165]);
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 2]);
  });

  it('center crop offsets: torchvision rounds half to even, HF floors', () => {
    // Width 7 -> 4: margin 3, torchvision round(1.5) = 2, HF 3 // 2 = 1. Height 9 -> 4: round(2.5) = 2, 5 // 2 = 2.
    expect(cropPlan({ height: 4, width: 4, convention: 'torchvision' }, 7, 9)).toMatchObject({ left: 2, top: 2, pad: [0, 0, 0, 0] });
    expect(cropPlan({ height: 4, width: 4, convention: 'hf' }, 7, 9)).toMatchObject({ left: 1, top: 2, pad: [0, 0, 0, 0] });
  });

  it('crops larger than the image pad: torchvision puts the odd pixel right/bottom, HF left/top', () => {
    expect(cropPlan({ height: 8, width: 8, convention: 'torchvision' }, 5, 8)).toMatchObject({ pad: [1, 0, 2, 0], left: 0, top: 0 });
    expect(cropPlan({ height: 8, width: 8, convention: 'hf' }, 5, 8)).toMatchObject({ pad: [2, 0, 1, 0], left: 0, top: 0 });
  });

  it('padding uses the fill value per channel', () => {
    const image = { data: new Uint8Array(2 * 2 * 3).fill(200), width: 2, height: 2, channels: 3 };
    const out = preprocess(image, { crop: { height: 2, width: 4, convention: 'torchvision', fill: [10, 20, 30] } });
    expect(out.shape).toEqual([2, 4, 3]);
    expect(Array.from(out.data.subarray(0, 6))).toEqual([10, 20, 30, 200, 200, 200]);
    expect(Array.from(out.data.subarray(9, 12))).toEqual([10, 20, 30]);
  });
});

describe('presets', () => {
  it('timm: 248 bicubic shortest edge, crop 224, 0.5/0.5', () => {
    const s = presetSpec('timm');
    expect(s.resize).toEqual({ kind: 'shortest-edge', size: 248, interpolation: 'bicubic' });
    expect(s.crop).toMatchObject({ height: 224, width: 224, convention: 'torchvision' });
    expect([s.mean, s.std]).toEqual([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]);
  });
  it('hf: 224x224 bilinear stretch; torchvision: 256 bilinear, crop 224, ImageNet', () => {
    expect(presetSpec('hf').resize).toEqual({ kind: 'exact', height: 224, width: 224, interpolation: 'bilinear' });
    expect(presetSpec('hf').crop).toBeUndefined();
    const tv = presetSpec('torchvision');
    expect(tv.resize).toEqual({ kind: 'shortest-edge', size: 256, interpolation: 'bilinear' });
    expect(tv.mean).toEqual([0.485, 0.456, 0.406]);
    expect(planFor(tv, 451, 300)).toMatchObject({ resize: { width: 384, height: 256 }, crop: { left: 80, top: 16 }, outWidth: 224, outHeight: 224 });
  });
  it('unknown preset names are ConfigErrors that list the choices', () => {
    expect(() => presetSpec('keras')).toThrow(ConfigError);
    expect(() => presetSpec('keras')).toThrow(/timm, hf, torchvision/);
  });
});

describe('reading configs', () => {
  it('HF ViTImageProcessor preprocessor_config.json', () => {
    const cfg = {
      do_normalize: true,
      do_rescale: true,
      do_resize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_processor_type: 'ViTImageProcessor',
      image_std: [0.5, 0.5, 0.5],
      resample: 2,
      rescale_factor: 0.00392156862745098,
      size: { height: 224, width: 224 },
    };
    expect(detectConfigKind(cfg)).toBe('hf');
    expect(specFromConfig(cfg)).toEqual({
      resize: { kind: 'exact', height: 224, width: 224, interpolation: 'bilinear' },
      rescale: 0.00392156862745098,
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
    });
  });

  it('HF CLIP-style: shortest_edge, bicubic, center crop with HF offsets', () => {
    const s = specFromHfConfig({
      image_processor_type: 'CLIPImageProcessor',
      do_center_crop: true,
      crop_size: { height: 224, width: 224 },
      resample: 3,
      size: { shortest_edge: 224 },
      image_mean: [0.48145466, 0.4578275, 0.40821073],
      image_std: [0.26862954, 0.26130258, 0.27577711],
    });
    expect(s.resize).toEqual({ kind: 'shortest-edge', size: 224, interpolation: 'bicubic' });
    expect(s.crop).toEqual({ height: 224, width: 224, convention: 'hf' });
    // Old-style integer size on a ViT processor means a square.
    expect(specFromHfConfig({ size: 384, do_normalize: false, do_rescale: false }).resize).toEqual({ kind: 'exact', height: 384, width: 384, interpolation: 'bilinear' });
  });

  it('SigLIP: a stretch to size and no crop (SiglipImageProcessor has none; CLIP crops by default)', () => {
    const siglip = { image_processor_type: 'SiglipImageProcessor', resample: 3, size: { height: 384, width: 384 }, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] };
    expect(specFromHfConfig(siglip).resize).toEqual({ kind: 'exact', height: 384, width: 384, interpolation: 'bicubic' });
    expect(specFromHfConfig(siglip).crop).toBeUndefined();
    expect(specFromHfConfig({ image_processor_type: 'CLIPImageProcessor', size: { shortest_edge: 256 } }).crop).toEqual({ height: 224, width: 224, convention: 'hf' });
  });

  it('timm pretrained_cfg, bare or inside a hub config.json', () => {
    const pretrained = { input_size: [3, 224, 224], interpolation: 'bicubic', crop_pct: 0.9, crop_mode: 'center', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
    expect(specFromConfig(pretrained)).toEqual(presetSpec('timm'));
    expect(specFromConfig({ architecture: 'vit_base_patch16_224', pretrained_cfg: pretrained })).toEqual(presetSpec('timm'));
    // crop_pct 1.0 at 384, squash: stretch to 384x384.
    expect(specFromTimmConfig({ input_size: [3, 384, 384], crop_pct: 1, crop_mode: 'squash', interpolation: 'bilinear' }).resize).toEqual({
      kind: 'exact',
      height: 384,
      width: 384,
      interpolation: 'bilinear',
    });
    // border: fit the longer side, pad with round(255 * mean).
    const border = specFromTimmConfig({ input_size: [3, 224, 224], crop_pct: 1, crop_mode: 'border', mean: [0.485, 0.456, 0.406] });
    expect(border.crop?.fill).toEqual([124, 116, 104]);
  });

  it('bad configs are ConfigErrors naming the field', () => {
    expect(() => specFromHfConfig({ resample: 7 })).toThrow(/resample 7/);
    expect(() => specFromHfConfig({ size: { foo: 1 } })).toThrow(/size must be/);
    expect(() => specFromHfConfig({ image_mean: [0.5, 0.5] })).toThrow(/image_mean/);
    // Gray-image processors write one value; it applies to every channel.
    expect(specFromHfConfig({ image_mean: [0.25], image_std: [0.5] }).mean).toEqual([0.25, 0.25, 0.25]);
    expect(() => specFromTimmConfig({ input_size: [1, 224, 224] })).toThrow(/RGB/);
    expect(() => specFromTimmConfig({ input_size: [3, 224, 224], crop_mode: 'zoom' })).toThrow(/crop_mode/);
    expect(() => specFromConfig('nope')).toThrow(ConfigError);
    expect(() => preprocess({ data: new Uint8Array(12), width: 2, height: 2, channels: 3 }, { mean: [0, 0, 0] })).toThrow(/both mean and std/);
  });
});

describe('sizes that become image buffers', () => {
  it('refuses a preprocessor config whose size no backend tensor can hold, naming the field and the limit', () => {
    const e = (() => {
      try {
        specFromHfConfig({ do_resize: true, size: { height: 100000, width: 100000 }, do_normalize: false });
      } catch (x) {
        return x;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/^resize\.height 100000 is above the limit of 13377 pixels — /);
    expect(() => specFromHfConfig({ do_resize: true, size: { shortest_edge: 100000 }, do_center_crop: false })).toThrow(/resize\.size 100000 is above the limit/);
    expect(() => specFromHfConfig({ do_resize: true, size: { height: 224, width: 224 } })).not.toThrow();
  });
});

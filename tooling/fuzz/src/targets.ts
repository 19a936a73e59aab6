import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { FormatError, parseNpy, serializeNpy } from '@vitkit/core';
import { decodeImageSync, initJpeg, initWebp, specFromConfig } from '@vitkit/preprocessing';
import { parseCifar10, parseIdx, serializeIdx } from '@vitkit/training';
import { configFromHF, configInputFromJson, parseNpz, parseSafetensors, serializeNpz } from '@vitkit/weights';
import { mutateBytes, mutateJson, type Random } from './mutate.js';

/**
 * Every parser of untrusted bytes, with valid seed files to mutate. A case
 * must end in a VitkitError (typed) or a value; anything else is a finding.
 */
export interface Target {
  name: string;
  /** Runs once per worker before the cases. */
  init?: () => Promise<void>;
  seeds: () => Uint8Array[];
  /** Makes case bytes from a seed (default: byte-level mutation). */
  mutate?: (seed: Uint8Array, r: Random) => { bytes: Uint8Array; how: string };
  run: (bytes: Uint8Array) => unknown;
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const file = (relative: string): Uint8Array => new Uint8Array(readFileSync(ROOT + relative));
const IMAGES = 'packages/preprocessing/test/fixtures/decode/';
const images = (ext: RegExp): Uint8Array[] =>
  readdirSync(ROOT + IMAGES)
    .filter((f) => ext.test(f))
    .sort()
    .map((f) => file(IMAGES + f));

/** Decoding limit for the image targets: a mutated header may claim up to this many pixels, which are then allocated. */
export const FUZZ_MAX_PIXELS = 2 ** 22;

/** Bytes to JSON as the loaders do: invalid UTF-8 or JSON is a FormatError, as in readCheckpoint's readJson. */
function json(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new FormatError(`not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

const jsonSeed = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
/** Config seeds are mutated structurally 3 times in 4, byte-wise otherwise. */
const mutateConfig = (seed: Uint8Array, r: Random) => (r() < 0.75 ? mutateJson(JSON.parse(new TextDecoder().decode(seed)), r) : mutateBytes(seed, r));

/**
 * PNG chunks carry CRCs, so almost every byte edit fails the CRC check and
 * never reaches the decoder proper: half the PNG cases get their CRCs fixed.
 */
function fixPngCrcs(b: Uint8Array): Uint8Array {
  const out = b.slice();
  const view = new DataView(out.buffer);
  let at = 8;
  while (at + 12 <= out.length) {
    const length = view.getUint32(at);
    if (at + 12 + length > out.length) break;
    view.setUint32(at + 8 + length, crc32(out.subarray(at + 4, at + 8 + length)) >>> 0);
    at += 12 + length;
  }
  return out;
}

const float = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));

export const TARGETS: Target[] = [
  {
    name: 'safetensors',
    seeds: () => [file('fixtures/reference/vit-micro/timm.safetensors'), file('fixtures/reference/vit-micro/hf.safetensors')],
    mutate: (seed, r) => mutateBytes(seed, r, 4096),
    run: (b) => parseSafetensors(b),
  },
  {
    name: 'npz',
    seeds: () => {
      const small = new Map([
        ['a', { shape: [3, 4], data: float(12, (i) => i / 3) }],
        ['b', { shape: [5], data: Int32Array.from([1, -2, 3, -4, 5]) }],
      ]);
      return [file('fixtures/reference/vit-micro/jax.npz'), serializeNpz(small), serializeNpz(small, { deflateRaw: (d) => deflateRawSync(d) })];
    },
    run: (b) => parseNpz(b),
  },
  {
    name: 'npy',
    seeds: () => [
      file(`${IMAGES}rgb.png.npy`),
      serializeNpy({ shape: [2, 3], dtype: 'float32', data: float(6, (i) => i) }),
      serializeNpy({ shape: [7], dtype: 'int32', data: Int32Array.from({ length: 7 }, (_, i) => i - 3) }),
      serializeNpy({ shape: [], dtype: 'float32', data: float(1, () => 1.5) }),
    ],
    run: (b) => parseNpy(b),
  },
  {
    name: 'idx',
    seeds: () => {
      const images8 = serializeIdx([4, 6, 5], Uint8Array.from({ length: 120 }, (_, i) => i));
      const labels = serializeIdx([4], Uint8Array.from([3, 1, 4, 1]));
      const int32 = new Uint8Array([0, 0, 0x0c, 1, 0, 0, 0, 2, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xfe]);
      return [images8, labels, int32, gzipSync(images8), gzipSync(labels), gzipSync(new Uint8Array(serializeIdx([64, 28, 28], new Uint8Array(64 * 784))))];
    },
    run: (b) => parseIdx(b, 'fuzz', { maxBytes: 64 * 2 ** 20 }),
  },
  {
    name: 'cifar',
    seeds: () => {
      const rec = 1 + 3 * 1024;
      const two = Uint8Array.from({ length: 2 * rec }, (_, i) => (i * 31) & 0xff);
      two[0] = 3;
      two[rec] = 9;
      return [two, two.subarray(0, rec)];
    },
    run: (b) => parseCifar10([b], 'fuzz'),
  },
  ...(['png', 'jpeg', 'gif', 'webp'] as const).map(
    (format): Target => ({
      name: format,
      ...(format === 'webp'
        ? {
            init: async () => {
              await initWebp();
            },
          }
        : format === 'jpeg'
          ? {
              // The wasm libjpeg-turbo decoder, as decodeImage uses it (jpeg-js only for CMYK).
              init: async () => {
                await initJpeg();
              },
            }
          : {}),
      seeds: () => images({ png: /\.png$/, jpeg: /\.jpg$/, gif: /\.gif$/, webp: /\.webp$/ }[format]),
      mutate: (seed, r) => {
        const m = mutateBytes(seed, r, 512);
        return format === 'png' && r() < 0.5 ? { bytes: fixPngCrcs(m.bytes), how: `${m.how}; CRCs fixed` } : m;
      },
      run: (b) => decodeImageSync(b, { maxPixels: FUZZ_MAX_PIXELS }),
    }),
  ),
  {
    name: 'hf-config',
    seeds: () => [
      file('fixtures/reference/vit-micro/hf-config.json'),
      jsonSeed({ architectures: ['ViTForImageClassification'], model_type: 'vit', hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, image_size: 224, patch_size: 16, num_channels: 3, qkv_bias: true, layer_norm_eps: 1e-12, id2label: { 0: 'a', 1: 'b' } }),
      jsonSeed({ architecture: 'vit_base_patch16_224', num_classes: 1000, pretrained_cfg: { input_size: [3, 224, 224], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], interpolation: 'bicubic', crop_pct: 0.9 } }),
    ],
    mutate: mutateConfig,
    run: (b) => {
      const cfg = json(b);
      const input = configInputFromJson(cfg);
      if (cfg && typeof cfg === 'object' && !Array.isArray(cfg) && (cfg as { model_type?: unknown }).model_type === 'vit') configFromHF(cfg as Record<string, unknown>);
      return input;
    },
  },
  {
    name: 'preprocess-config',
    seeds: () => [
      jsonSeed({ do_resize: true, size: { height: 224, width: 224 }, resample: 2, do_rescale: true, rescale_factor: 1 / 255, do_normalize: true, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5], image_processor_type: 'ViTImageProcessor' }),
      jsonSeed({ do_resize: true, size: { shortest_edge: 224 }, crop_size: { height: 224, width: 224 }, do_center_crop: true, resample: 3, image_mean: [0.48145466, 0.4578275, 0.40821073], image_std: [0.26862954, 0.26130258, 0.27577711] }),
      jsonSeed({ architecture: 'vit_base_patch16_224', pretrained_cfg: { input_size: [3, 224, 224], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], interpolation: 'bicubic', crop_pct: 0.875, crop_mode: 'center' } }),
    ],
    mutate: mutateConfig,
    run: (b) => specFromConfig(json(b)),
  },
];

import { ConfigError, FormatError } from '@vitkit/core';
import { specFromConfig } from './config.js';
import { decodeImage, type DecodeOptions, type ImageBytes } from './decode/decode.js';
import type { ModelInput } from './image.js';
import { preprocess, type PipelineOptions } from './pipeline.js';
import { presetSpec, type PreprocessPresetName } from './presets.js';
import type { PreprocessSpec } from './spec.js';

const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
const dynamicImport = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ specifier);

/** Reads a file in Node, or fetches a URL in a browser. */
export async function readBytes(pathOrUrl: string): Promise<Uint8Array> {
  if (isNode && !/^https?:/i.test(pathOrUrl)) {
    const { readFile } = (await dynamicImport('node:fs/promises')) as typeof import('node:fs/promises');
    try {
      return new Uint8Array(await readFile(pathOrUrl));
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new FormatError(
        `cannot read ${pathOrUrl}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : e instanceof Error ? e.message : String(e)}`,
        'check the path',
      );
    }
  }
  const res = await fetch(pathOrUrl);
  if (!res.ok) throw new FormatError(`cannot fetch ${pathOrUrl}: HTTP ${res.status}`, 'check the URL');
  return new Uint8Array(await res.arrayBuffer());
}

export interface LoadImageOptions extends DecodeOptions, PipelineOptions {
  /** A named pipeline (timm, hf, torchvision). */
  preset?: PreprocessPresetName | string;
  /** A HF preprocessor_config.json or timm pretrained_cfg: parsed JSON, or a path/URL to one. */
  config?: unknown;
  /** An explicit spec; wins over config and preset. */
  spec?: PreprocessSpec;
}

/** Resolves the spec that loadImageForModel would use. */
export async function resolveSpec(options: Pick<LoadImageOptions, 'preset' | 'config' | 'spec'>): Promise<PreprocessSpec> {
  if (options.spec) return options.spec;
  if (options.config !== undefined) {
    if (typeof options.config !== 'string') return specFromConfig(options.config);
    const text = new TextDecoder().decode(await readBytes(options.config));
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`${options.config} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    return specFromConfig(json);
  }
  if (options.preset !== undefined) return presetSpec(options.preset);
  throw new ConfigError('no preprocessing given', 'pass a preset (timm, hf, torchvision), a config or a spec');
}

/**
 * One call from a file (path in Node, URL in browsers) or bytes to a model
 * input: decode, EXIF-rotate, resize, crop, normalize. Returns HWC float32
 * [height, width, 3].
 */
export async function loadImageForModel(pathOrBytes: string | ImageBytes, options: LoadImageOptions): Promise<ModelInput> {
  const spec = await resolveSpec(options);
  const bytes = typeof pathOrBytes === 'string' ? await readBytes(pathOrBytes) : pathOrBytes;
  const image = await decodeImage(bytes, options);
  return preprocess(image, spec, options);
}

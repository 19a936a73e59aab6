import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, FormatError, isPresetName, type ViTConfigInput } from '@vitkit/core';
import { configInputFromJson, fetchBytes, loadCheckpoint, type CheckpointSource, type LoadedCheckpoint, type LoadOptions } from '@vitkit/weights';
import { VisionTransformer, type VisionTransformerOptions } from './vision_transformer.js';

export interface LoadViTOptions extends Omit<LoadOptions, 'config'>, VisionTransformerOptions {
  /**
   * The architecture, when the checkpoint does not say it all: a preset name
   * (`vit_base_patch16_224`), a path (Node) or http(s) URL of an HF / timm `config.json`, a
   * parsed config.json object, or ViTConfig fields. A config.json beside the
   * weights (or in an `hf://` repo) is read automatically.
   */
  config?: string | ViTConfigInput | Record<string, unknown>;
}

const dynamicImport = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ specifier);

const isUrl = (spec: string): boolean => /^https?:\/\//i.test(spec);

/** A config.json's text from a path (Node) or an http(s) URL (bounded like every download). */
async function readConfigText(path: string): Promise<string> {
  if (isUrl(path)) {
    const res = await fetchBytes(path);
    if (res.status !== 'ok') throw new ConfigError(`no config at ${path}`, 'check the config URL');
    return new TextDecoder().decode(res.bytes);
  }
  const { readFile } = (await dynamicImport('node:fs/promises')) as typeof import('node:fs/promises');
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, 'pass a preset name or the path of a config.json');
  }
}

async function readConfigFile(path: string): Promise<ViTConfigInput> {
  const text = await readConfigText(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new FormatError(`config ${path} is not valid JSON`, 'pass an HF or timm config.json');
  }
  const input = configInputFromJson(json);
  if (!input) throw new ConfigError(`config ${path} is neither an HF nor a timm ViT config`, 'pass an HF config.json (hidden_size, ...) or a preset name');
  return input;
}

/**
 * Turns a `config` option (a preset name, a config.json path in Node, a parsed
 * config.json, or ViTConfig fields) into what loadCheckpoint takes.
 */
export async function resolveConfigOption(config: LoadViTOptions['config']): Promise<Pick<LoadOptions, 'config' | 'preset'>> {
  if (config === undefined) return {};
  if (typeof config === 'string') return isPresetName(config) ? { preset: config } : { config: await readConfigFile(config) };
  const fromJson = configInputFromJson(config);
  if (!fromJson) throw new ConfigError('the config object is neither an HF/timm config.json nor ViTConfig fields');
  return { config: fromJson };
}

/** A model built from a loaded checkpoint; the checkpoint's tensors are freed. */
export function viTFromCheckpoint(checkpoint: LoadedCheckpoint, options: VisionTransformerOptions = {}): VisionTransformer {
  const model = new VisionTransformer(checkpoint.config, options);
  try {
    model.loadStateDict(checkpoint.state);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    tf.dispose([...checkpoint.state.values()]);
  }
  return model;
}

/**
 * Loads a pretrained ViT from any checkpoint `@vitkit/weights` reads
 * (safetensors, sharded safetensors, npz; timm, Hugging Face, torchvision or
 * JAX names) from a path, URL, `hf://org/repo`, File or bytes.
 *
 * ```ts
 * const model = await loadViT('hf://google/vit-base-patch16-224');
 * const model2 = await loadViT('model.safetensors', { config: 'config.json' });
 * ```
 */
export async function loadViT(source: CheckpointSource, options: LoadViTOptions = {}): Promise<VisionTransformer> {
  const { config, seed, ...rest } = options;
  const checkpoint = await loadCheckpoint(source, { ...rest, ...(await resolveConfigOption(config)) });
  return viTFromCheckpoint(checkpoint, seed === undefined ? {} : { seed });
}

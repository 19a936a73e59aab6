// Building the model `vit train` and `vit eval` work on: from a checkpoint
// (--weights, any format @vitkit/weights reads), a config (--config: a
// config.json or a preset name), or the small default architecture.
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, PRESETS, isPresetName, presetNames, resolveConfig, withOverrides, type ViTConfig, type ViTConfigInput } from '@vitkit/core';
import { VisionTransformer } from '@vitkit/vit';
import { configInputFromJson, loadCheckpoint } from '@vitkit/weights';
import * as tf from '@tensorflow/tfjs-core';
import { detectConfigKind, specFromConfig, type PreprocessSpec } from '@vitkit/preprocessing';
import { foundPreprocessing } from '@vitkit/tasks';
import { UsageError } from '../errors.js';

/**
 * The architecture `vit train` uses without --config or --weights: small
 * enough to train on two CPU cores in minutes. Patch size follows the image
 * size (see defaultPatchSize).
 */
export const DEFAULT_ARCHITECTURE: ViTConfigInput = { embedDim: 64, depth: 4, numHeads: 4, mlpDim: 128 };

/** A patch size that divides the image: 7 for 28 px (16 tokens), 4 for 32 px, 16 for 224 px, ... */
export function defaultPatchSize(imageSize: [number, number]): number {
  const fits = (p: number): boolean => imageSize[0] % p === 0 && imageSize[1] % p === 0;
  const candidates = Math.max(...imageSize) <= 64 ? [7, 4, 8, 2] : [16, 14, 8, 7, 4, 2];
  return candidates.find(fits) ?? 1;
}

/** --config: a preset name, or a config.json (Hugging Face, timm hub or vitkit fields). */
function isRecipeJson(json: unknown): json is { model: unknown; train: unknown } {
  return typeof json === 'object' && json !== null && 'model' in json && 'train' in json && typeof json.model === 'object';
}

export function readConfigSpec(spec: string | undefined): ViTConfigInput | undefined {
  if (spec === undefined) return undefined;
  if (isPresetName(spec)) return { ...PRESETS[spec]! };
  if (!existsSync(spec)) throw new UsageError(`--config ${spec} is neither a file nor a preset`, `use a config.json or one of: ${presetNames().slice(0, 4).join(', ')}, ...`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(spec, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${spec} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, 'pass a config.json');
  }
  // A recipe file (packages/training/recipes/*.json) holds the architecture under `model`.
  const input = configInputFromJson(isRecipeJson(json) ? json.model : json);
  if (!input) throw new ConfigError(`${spec} is not a ViT config vitkit understands`, 'use a Hugging Face ViT config.json, a timm config.json, or a preset name');
  return input;
}

export interface ModelSetup {
  model: VisionTransformer;
  /** Where the weights came from ('random init' or the checkpoint). */
  source: string;
  headReplaced: boolean;
  /**
   * The checkpoint's own preprocessing (its preprocessor_config.json, or a timm config.json's
   * pretrained_cfg, chosen and read as the task layer does), for fine-tuning on the inputs it was
   * trained with: `json` is what the run directory's preprocessor_config.json repeats.
   */
  preprocessing?: CheckpointPreprocessing;
}

export interface CheckpointPreprocessing {
  spec: PreprocessSpec;
  json: Record<string, unknown>;
}

/** A checkpoint's preprocessing JSON (a timm config.json gives its pretrained_cfg alone), read as the task layer reads it. */
export function checkpointPreprocessing(sidecars: Record<string, unknown>): CheckpointPreprocessing | undefined {
  const json = foundPreprocessing(sidecars, sidecars['config.json'])?.json as Record<string, unknown> | undefined;
  if (json === undefined) return undefined;
  const pretrained = json['pretrained_cfg'];
  // pretrained_cfg alone reads back the same when it names its input size (as timm writes it).
  const own = typeof pretrained === 'object' && pretrained !== null && detectConfigKind(pretrained) === 'timm' ? (pretrained as Record<string, unknown>) : json;
  return { spec: specFromConfig(json), json: own };
}

export interface BuildModelOptions {
  weights?: string;
  config?: ViTConfigInput;
  /** Classes wanted; with --weights a different count gets a fresh head. */
  numClasses?: number;
  /** Their names (with --weights: the data's class folders), written to the run's config.json. */
  labels?: string[];
  /** Applied last: training-time fields (dropout, dropPath) and the image size. */
  overrides?: ViTConfigInput;
  /** What the data implies (image size, channels, classes, labels), for a model built from scratch. */
  fromData?: ViTConfigInput;
  seed: number;
}

/** Builds the model, loading --weights when given (with a fresh classifier when --num-classes differs from the checkpoint's). */
export async function buildModel(o: BuildModelOptions): Promise<ModelSetup> {
  const overrides = Object.fromEntries(Object.entries(o.overrides ?? {}).filter(([, v]) => v !== undefined)) as ViTConfigInput;
  if (o.weights) {
    const load = (headMode: 'keep' | 'replace') =>
      loadCheckpoint(o.weights!, {
        ...(o.config ? { config: o.config } : {}),
        ...(o.numClasses !== undefined ? { numClasses: o.numClasses } : {}),
        ...(o.labels !== undefined ? { labels: o.labels } : {}),
        ...(overrides.imageSize !== undefined ? { imageSize: overrides.imageSize } : {}),
        headMode,
        seed: o.seed,
        sidecars: ['config.json', 'preprocessor_config.json'],
      });
    let loaded;
    try {
      loaded = await load('keep');
    } catch (e) {
      // The checkpoint's classifier has another class count: fine-tune with a fresh one.
      if (!(e instanceof ConfigError) || o.numClasses === undefined || !/classifier has \d+ classes/.test(e.message)) throw e;
      loaded = await load('replace');
    }
    const config: ViTConfig = withOverrides(loaded.config, overrides);
    const model = new VisionTransformer(config, { seed: o.seed });
    try {
      model.loadStateDict(loaded.state);
    } finally {
      tf.dispose([...loaded.state.values()]);
    }
    const preprocessing = checkpointPreprocessing(loaded.sidecars);
    return { model, source: o.weights, headReplaced: loaded.headReplaced, ...(preprocessing ? { preprocessing } : {}) };
  }
  const base: ViTConfigInput = o.config ?? { ...DEFAULT_ARCHITECTURE };
  const merged: ViTConfigInput = { ...(o.config ? {} : o.fromData), ...base, ...(o.numClasses !== undefined ? { numClasses: o.numClasses } : {}), ...overrides };
  if (!o.config && merged.patchSize === undefined) {
    const size = typeof merged.imageSize === 'number' ? ([merged.imageSize, merged.imageSize] as [number, number]) : (merged.imageSize ?? [224, 224]);
    merged.patchSize = defaultPatchSize(size);
  }
  if (o.config && o.numClasses === undefined && o.fromData?.numClasses !== undefined) merged.numClasses = o.fromData.numClasses;
  if (merged.labels && merged.numClasses !== undefined && merged.labels.length !== merged.numClasses) delete merged.labels;
  return { model: new VisionTransformer(resolveConfig(merged), { seed: o.seed }), source: 'random init', headReplaced: false };
}

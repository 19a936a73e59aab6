import {
  ConfigError,
  isPresetName,
  numPrefixTokens,
  patchGrid,
  PRESETS,
  presetConfig,
  resolveConfig,
  type StateDict,
  type ViTConfig,
  type ViTConfigInput,
} from '@vitkit/core';
import { resamplePosEmbed } from '@vitkit/input-layer';
import { detectConvention, type Convention } from './conventions/convention.js';
import { convertToTimm, numHeadsFromJax } from './conventions/convert.js';
import { freshHead } from './head.js';
import { inferConfig } from './infer_config.js';
import { checkFinite, type RawTensors } from './raw_tensor.js';
import { readCheckpoint, type CheckpointSource, type RawCheckpoint, type ReadOptions } from './sources/read.js';
import { toStateDict } from './state_dict.js';
import { checkTimmTensors } from './timm_layout.js';

/**
 * What to do with the checkpoint's classifier:
 * - `keep`: load it (numClasses must match if given).
 * - `backbone`: leave it out; the config gets numClasses 0.
 * - `replace`: a fresh classifier of `numClasses` outputs (for fine-tuning).
 */
export type HeadMode = 'keep' | 'backbone' | 'replace';

export interface PrepareOptions {
  /** Architecture fields that override what the checkpoint implies (training fields such as dropPath too). */
  config?: ViTConfigInput;
  /** A preset name (e.g. vit_base_patch16_224) whose architecture, such as the head count, fills in what shapes cannot tell. */
  preset?: string;
  /** Attention heads (PyTorch-layout checkpoints do not record them). */
  numHeads?: number;
  /** Classes wanted: must match with headMode "keep", sizes the new head with "replace". */
  numClasses?: number;
  /** Class names for the resulting config. */
  labels?: string[];
  headMode?: HeadMode;
  /** Image size to run at; the position embedding is resampled when it differs from the checkpoint's. */
  imageSize?: number | [number, number];
  /** Seed of the fresh head's initialization (headMode "replace"). */
  seed?: number;
  /** Skip convention detection. */
  convention?: Convention;
}

export interface LoadOptions extends ReadOptions, PrepareOptions {}

export interface PreparedCheckpoint {
  /** timm names, PyTorch layouts, checked against `checkpointConfig` (and the head against `config`). */
  tensors: RawTensors;
  /** The config to build the model with (target image size, head as requested). */
  config: ViTConfig;
  /** The architecture the checkpoint was saved with. */
  checkpointConfig: ViTConfig;
  convention: Convention;
  /** Tensors left out: an unused pooler, a replaced or dropped head. */
  dropped: string[];
  headReplaced: boolean;
}

export interface LoadedCheckpoint extends Omit<PreparedCheckpoint, 'tensors'> {
  /** tfjs tensors in PyTorch layout under timm names, for Module.loadStateDict. The caller disposes them. */
  state: StateDict;
  format: RawCheckpoint['format'];
  files: string[];
  /** Parsed JSON files found with the weights (`config.json`, and those named in `options.sidecars`). */
  sidecars: Record<string, unknown>;
  metadata: Record<string, string>;
  /** Set when pos_embed was resampled to the requested image size. */
  resampled: { from: [number, number]; to: [number, number] } | undefined;
}

function omit<T extends object>(o: T | undefined, keys: readonly string[]): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => !keys.includes(k) && v !== undefined)) as Partial<T>;
}

/**
 * The attention head count for a checkpoint, from (first found) the
 * options, the options' config, the preset, a config.json stored with the
 * weights, or the JAX kernel shapes; undefined when none says.
 */
export function resolveNumHeads(raw: Pick<RawCheckpoint, 'tensors' | 'fileConfig'>, options: PrepareOptions = {}): number | undefined {
  const preset = options.preset && isPresetName(options.preset) ? PRESETS[options.preset]! : {};
  const jaxHeads = numHeadsFromJax(raw.tensors);
  const numHeads = options.numHeads ?? options.config?.numHeads ?? preset.numHeads ?? raw.fileConfig?.numHeads ?? jaxHeads;
  if (jaxHeads !== undefined && numHeads !== jaxHeads) {
    throw new ConfigError(`numHeads ${numHeads} was given but the JAX checkpoint's kernels have ${jaxHeads} heads`, `use numHeads ${jaxHeads}`);
  }
  return numHeads;
}

/**
 * Turns a checkpoint as stored into checked timm tensors and a config,
 * without tfjs: converts names and layouts, works out the architecture
 * (shapes, then any config.json, then the preset, then `options.config`),
 * checks every tensor, and applies the head mode.
 */
export function prepareCheckpoint(raw: RawCheckpoint, options: PrepareOptions = {}): PreparedCheckpoint {
  const convention = options.convention ?? detectConvention(raw.tensors.keys());
  checkFinite(raw.tensors);
  const converted = convertToTimm(raw.tensors, convention);
  const tensors = converted.tensors;
  const dropped = [...converted.dropped];
  if (options.preset !== undefined && !isPresetName(options.preset)) presetConfig(options.preset); // throws the helpful error
  const preset: ViTConfigInput = options.preset ? PRESETS[options.preset]! : {};
  const sizeKeys = ['imageSize', 'numClasses', 'labels'];
  const numHeads = resolveNumHeads(raw, options);
  const hints = raw.fileConfig?.imageSize !== undefined ? { imageSize: raw.fileConfig.imageSize } : {};
  // Without a head count from anywhere, inferConfig throws the error that asks for one.
  if (numHeads === undefined) inferConfig(tensors, hints);
  // With one, infer with a placeholder so that a preset or config that does not fit the
  // checkpoint shows up below as a tensor shape mismatch, not as an arithmetic complaint.
  const inferred = inferConfig(tensors, { ...hints, numHeads: 1 });
  const checkpointConfig = resolveConfig({
    ...inferred,
    ...omit(raw.fileConfig, ['imageSize']),
    ...omit(preset, sizeKeys),
    ...omit(options.config, sizeKeys),
    ...(numHeads !== undefined ? { numHeads } : {}),
  });
  checkTimmTensors(tensors, checkpointConfig);

  const mode = options.headMode ?? 'keep';
  const wanted = options.numClasses ?? options.config?.numClasses;
  let numClasses = checkpointConfig.numClasses;
  let labels = options.labels ?? options.config?.labels ?? checkpointConfig.labels;
  let headReplaced = false;
  const dropHead = () => {
    // Distilled models (DeiT) have a second classifier, head_dist, on the distillation token.
    for (const k of ['head.weight', 'head.bias', 'head_dist.weight', 'head_dist.bias']) if (tensors.delete(k)) dropped.push(k);
  };
  if (mode === 'keep') {
    if (wanted !== undefined && wanted !== numClasses) {
      throw new ConfigError(
        `the checkpoint's classifier has ${numClasses} classes but ${wanted} were asked for`,
        `use headMode "replace" for a fresh ${wanted}-class head, or "backbone" to load without the classifier`,
      );
    }
  } else if (mode === 'backbone' || (mode === 'replace' && wanted === 0)) {
    dropHead();
    numClasses = 0;
    labels = undefined;
  } else if (mode === 'replace') {
    if (wanted === undefined) throw new ConfigError('headMode "replace" needs numClasses', 'pass numClasses (e.g. 10)');
    dropHead();
    const head = freshHead(wanted, checkpointConfig.embedDim, options.seed ?? 0);
    tensors.set('head.weight', head.weight);
    tensors.set('head.bias', head.bias);
    if (checkpointConfig.distilled) {
      const dist = freshHead(wanted, checkpointConfig.embedDim, (options.seed ?? 0) + 1);
      tensors.set('head_dist.weight', dist.weight);
      tensors.set('head_dist.bias', dist.bias);
    }
    numClasses = wanted;
    // The old head's class names do not apply; a config describing the checkpoint may still carry them.
    const configLabels = options.config?.labels;
    labels = options.labels ?? (configLabels?.length === wanted ? configLabels : undefined);
    headReplaced = true;
  } else {
    throw new ConfigError(`unknown headMode "${String(mode)}"`, 'use keep, backbone or replace');
  }
  const imageSize = options.imageSize ?? options.config?.imageSize ?? checkpointConfig.imageSize;
  const { labels: _old, ...rest } = checkpointConfig;
  const config = resolveConfig({ ...rest, numClasses, imageSize, ...(labels !== undefined ? { labels } : {}) });
  return { tensors, config, checkpointConfig, convention, dropped, headReplaced };
}

/**
 * Loads a checkpoint from a path, URL, hf:// reference or bytes, in any
 * supported format and convention, as a timm-named StateDict plus the
 * config to build the model with. Resamples pos_embed when `imageSize`
 * differs from the checkpoint's.
 */
export async function loadCheckpoint(source: CheckpointSource, options: LoadOptions = {}): Promise<LoadedCheckpoint> {
  const raw = await readCheckpoint(source, options);
  const prepared = prepareCheckpoint(raw, options);
  const state = toStateDict(prepared.tensors);
  const from = patchGrid(prepared.checkpointConfig);
  const to = patchGrid(prepared.config);
  let resampled: LoadedCheckpoint['resampled'];
  if (from[0] !== to[0] || from[1] !== to[1]) {
    const old = state.get('pos_embed')!;
    const prefix = prepared.config.noEmbedClass ? 0 : numPrefixTokens(prepared.config);
    state.set('pos_embed', resamplePosEmbed(old, to, { numPrefixTokens: prefix, oldGrid: from }));
    old.dispose();
    resampled = { from, to };
  }
  const { tensors: _tensors, ...rest } = prepared;
  return { ...rest, state, format: raw.format, files: raw.files, metadata: raw.metadata, sidecars: raw.sidecars ?? {}, resampled };
}

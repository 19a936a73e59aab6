// One source → a model, its labels and its preprocessing.
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, ShapeError, VitkitError, isPresetName, type ViTConfig, type ViTConfigInput } from '@vitkit/core';
import {
  isPreprocessPresetName,
  preprocess,
  presetSpec,
  readBytes,
  specFromConfig,
  type DecodeOptions,
  type PreprocessSpec,
} from '@vitkit/preprocessing';
import { resolveConfigOption, viTFromCheckpoint, type VisionTransformer } from '@vitkit/vit';
import { loadCheckpoint, type CheckpointSource, type LoadOptions } from '@vitkit/weights';
import { describeInput, flattenInputs, toPixels, type ImageInput } from './images.js';

/**
 * Where a model comes from: a local directory or weights file (Node), a URL,
 * `hf://org/repo[@revision]`, the weights' bytes, or (browsers) the Files a
 * user picked: the weights plus `config.json` and `preprocessor_config.json`.
 */
export type ModelSource = CheckpointSource | readonly Blob[];

/** The source is not a model this layer can run: no config, no preprocessing, labels it cannot read. */
export class ModelSourceError extends VitkitError {
  constructor(code: 'E_NO_CONFIG' | 'E_NO_PREPROCESSING' | 'E_LABELS' | 'E_NO_VISION_TOWER', reason: string, hint: string) {
    super(code, reason, hint);
  }
}

export interface TaskOptions extends Omit<LoadOptions, 'config' | 'preset' | 'sidecars' | 'headMode' | 'numClasses' | 'labels'> {
  /**
   * The architecture and labels, when the source has no `config.json`: a preset name, a path to a
   * config.json (Node), a parsed config.json (HF `id2label` or timm `label_names`), or ViTConfig fields.
   */
  config?: string | ViTConfigInput | Record<string, unknown>;
  /**
   * How images become model inputs, when the source has no `preprocessor_config.json` (or timm
   * `pretrained_cfg`), or to override it: a preset (`timm`, `hf`, `torchvision`), a parsed
   * preprocessor_config.json / pretrained_cfg, a path or URL to one, or a PreprocessSpec.
   * `false`: none; only already preprocessed batches are fed to `model` (and `preprocess()` throws).
   */
  preprocess?: string | PreprocessSpec | Record<string, unknown> | false;
  /** Decoding options for encoded images (pixel limit, EXIF orientation). */
  decode?: DecodeOptions;
  /** Seed for anything initialized rather than loaded. */
  seed?: number;
}

const PREPROCESSOR_CONFIG = 'preprocessor_config.json';
const WEIGHT_FILE = /\.(safetensors|npz)$/i;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function sourceName(source: ModelSource): string {
  if (typeof source === 'string') return source;
  if (source instanceof URL) return source.href;
  if (Array.isArray(source)) return 'the files given';
  const name = (source as { name?: unknown }).name;
  return typeof name === 'string' && name ? name : 'the weights given';
}

async function blobJson(blob: Blob, name: string): Promise<unknown> {
  try {
    return JSON.parse(await blob.text()) as unknown;
  } catch (e) {
    throw new ConfigError(`${name} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Files picked in a browser: the weights, and the JSON files by name. */
async function splitFiles(files: readonly Blob[]): Promise<{ weights: Blob; sidecars: Record<string, unknown> }> {
  const named = files.map((f) => ({ file: f, name: (f as { name?: unknown }).name as string | undefined }));
  const sidecars: Record<string, unknown> = {};
  for (const { file, name } of named) if (name?.toLowerCase().endsWith('.json')) sidecars[name.replace(/^.*[\\/]/, '')] = await blobJson(file, name);
  const weights = named.filter(({ name }) => name === undefined || WEIGHT_FILE.test(name));
  if (weights.length !== 1) {
    throw new ModelSourceError('E_NO_CONFIG', `expected one weights file (.safetensors or .npz) among the files, found ${weights.length}`, 'pick the weights with config.json and preprocessor_config.json');
  }
  return { weights: weights[0]!.file, sidecars };
}

/** Labels as a config.json states them, checked: HF `id2label` or timm `label_names`. */
function checkLabels(json: unknown, config: ViTConfig, where: string): void {
  if (!isObject(json)) return;
  const id2label = json.id2label;
  const pretrained = isObject(json.pretrained_cfg) ? json.pretrained_cfg : {};
  const labelNames = json.label_names ?? pretrained.label_names;
  if (id2label !== undefined && !isObject(id2label)) {
    throw new ModelSourceError('E_LABELS', `${where}: id2label is ${Array.isArray(id2label) ? 'a list' : typeof id2label}, not an object of class index → name`, 'write id2label as {"0": "cat", "1": "dog", ...}');
  }
  if (labelNames !== undefined && !(Array.isArray(labelNames) && labelNames.every((l) => typeof l === 'string'))) {
    throw new ModelSourceError('E_LABELS', `${where}: label_names is not a list of strings`, 'write label_names as ["cat", "dog", ...]');
  }
  const labels = config.labels;
  if (config.numClasses > 0 && labels !== undefined && labels.length !== config.numClasses) {
    throw new ModelSourceError('E_LABELS', `${where} names ${labels.length} labels but the model has ${config.numClasses} classes`, 'give one label per class');
  }
}

/** The preprocessing named by the `preprocess` option. */
async function specFromOption(option: Exclude<TaskOptions['preprocess'], undefined | false>, config: ViTConfig): Promise<PreprocessSpec> {
  if (typeof option === 'string') {
    if (isPreprocessPresetName(option)) {
      const [h, w] = config.imageSize;
      if (h !== w) throw new ConfigError(`preset pipelines make square inputs, but the model takes ${h}x${w}`, 'give a preprocessor_config.json instead');
      return presetSpec(option, { size: h });
    }
    return specFromConfig(await readJson(option));
  }
  if ('resize' in option && 'crop' in option) return option as PreprocessSpec;
  return specFromConfig(option);
}

async function readJson(pathOrUrl: string): Promise<unknown> {
  const text = new TextDecoder().decode(await readBytes(pathOrUrl));
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConfigError(`${pathOrUrl} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A preprocessor_config.json beside a config.json given as a path, if there is one. */
async function besideConfig(configPath: string): Promise<unknown> {
  if (isPresetName(configPath) || !configPath.toLowerCase().endsWith('.json')) return undefined;
  const candidate = configPath.replace(/[^/\\]*$/, '') + PREPROCESSOR_CONFIG;
  try {
    return await readJson(candidate);
  } catch {
    return undefined;
  }
}

/**
 * Which JSON states a checkpoint's preprocessing: its `preprocessor_config.json`, else a timm
 * config.json that holds a `pretrained_cfg` (read either with specFromConfig).
 */
export function preprocessingJson(sidecars: Record<string, unknown>, configJson: unknown = sidecars['config.json']): unknown {
  const json = sidecars[PREPROCESSOR_CONFIG];
  if (json !== undefined) return json;
  return isObject(configJson) && isObject(configJson.pretrained_cfg) ? configJson : undefined;
}

const TEXT_TOWER = ['text_model.', 'text_projection', 'logit_scale', 'logit_bias'];

/** A loaded model with what it takes to feed it images. */
export class TaskModel {
  /** @internal */
  constructor(
    /** The network; `model.forward` gives logits, features, tokens and attention maps. */
    readonly model: VisionTransformer,
    /** How images become inputs (resize, crop, normalize), as the model's Python pipeline does it; undefined with `preprocess: false`. */
    readonly spec: PreprocessSpec | undefined,
    /** Files the model was read from. */
    readonly files: string[],
    private readonly decodeOptions: DecodeOptions = {},
  ) {}

  get config(): ViTConfig {
    return this.model.config;
  }

  /** Class names by index (from config.json), if the model has them. */
  get labels(): string[] | undefined {
    return this.model.config.labels;
  }

  /**
   * Decodes and preprocesses images one by one (any sizes, any ImageInput forms) into one
   * model batch [B, H, W, C]. The caller disposes it.
   */
  async preprocess(images: ImageInput | readonly ImageInput[]): Promise<tf.Tensor4D> {
    const spec = this.spec;
    if (!spec) throw new ConfigError('this model was loaded with preprocess: false', 'feed preprocessed batches to model.forward, or load it with a preprocessing');
    const list = flattenInputs(Array.isArray(images) ? (images as readonly ImageInput[]) : [images as ImageInput]);
    if (list.length === 0) throw new ShapeError('no images given', 'pass one image or a list of them');
    const c = this.config.inChannels;
    let size: [number, number] | undefined;
    const parts: Float32Array[] = [];
    for (const [i, input] of list.entries()) {
      const image = preprocess(await toPixels(input, this.decodeOptions), spec);
      const [h, w, ic] = image.shape;
      const [mh, mw] = this.config.imageSize;
      const fits = this.config.dynamicImageSize || (h === mh && w === mw);
      if (!fits || (ic !== c && !(c === 1 && ic === 3))) {
        throw new ShapeError(`${describeInput(input, i)} preprocessed to [${image.shape.join(', ')}], but the model takes [${mh}, ${mw}, ${c}]`, 'check the preprocessing config');
      }
      if (size && (size[0] !== h || size[1] !== w)) {
        throw new ShapeError(`${describeInput(input, i)} preprocessed to ${h}x${w}, unlike the batch's ${size[0]}x${size[1]}`, 'run images of different sizes in separate calls');
      }
      size = [h, w];
      if (c === ic) parts.push(image.data);
      else {
        // A one-channel model gets the luma of the normalized channels (exact for gray images).
        const out = new Float32Array(h * w);
        for (let p = 0; p < h * w; p++) out[p] = 0.299 * image.data[3 * p]! + 0.587 * image.data[3 * p + 1]! + 0.114 * image.data[3 * p + 2]!;
        parts.push(out);
      }
    }
    const [h, w] = size!;
    const data = new Float32Array(list.length * h * w * c);
    parts.forEach((p, i) => data.set(p, i * h * w * c));
    return tf.tensor4d(data, [list.length, h, w, c], 'float32');
  }

  /** Frees the model's weights. */
  dispose(): void {
    this.model.dispose();
  }
}

/**
 * Loads a model with its config (labels) and preprocessing from one source.
 * Throws a ModelSourceError naming what is missing.
 */
export async function loadTaskModel<T extends TaskModel = TaskModel>(
  source: ModelSource,
  options: TaskOptions = {},
  Kind: new (...args: ConstructorParameters<typeof TaskModel>) => T = TaskModel as new (...args: ConstructorParameters<typeof TaskModel>) => T,
): Promise<T> {
  const { config: configOption, preprocess: preprocessOption, decode, seed, ...load } = options;
  const note = options.onNote ?? ((m: string) => console.warn(`vitkit: ${m}`));
  let weights: CheckpointSource;
  let fileSidecars: Record<string, unknown> = {};
  if (Array.isArray(source)) ({ weights, sidecars: fileSidecars } = await splitFiles(source as readonly Blob[]));
  else weights = source as CheckpointSource;
  const configSource = configOption ?? fileSidecars['config.json'];
  const configLoad = await resolveConfigOption(configSource as TaskOptions['config']);
  let checkpoint;
  try {
    checkpoint = await loadCheckpoint(weights, { ...load, ...configLoad, sidecars: ['config.json', PREPROCESSOR_CONFIG] });
  } catch (e) {
    if (e instanceof VitkitError && /text_model\.|text_projection/.test(e.message) && !/vision_model|visual/.test(e.message)) {
      throw new ModelSourceError('E_NO_VISION_TOWER', `${sourceName(source)} holds no vision tower (only a text model)`, 'use a CLIP/SigLIP checkpoint with vision_model.* tensors');
    }
    // Without a config.json the architecture is guessed from shapes, which cannot tell the head count.
    if (configSource === undefined && e instanceof ConfigError && /numHeads/.test(e.message)) {
      throw new ModelSourceError('E_NO_CONFIG', `no config.json found with the weights in ${sourceName(source)}`, "put the model's config.json beside the weights, or pass config");
    }
    throw e;
  }
  const sidecars = { ...checkpoint.sidecars, ...fileSidecars };
  const configJson = typeof configSource === 'string' ? undefined : (configSource ?? sidecars['config.json']);
  try {
    checkLabels(configJson, checkpoint.config, 'config.json');
    let specJson = preprocessingJson(sidecars, configJson);
    if (specJson === undefined && typeof configSource === 'string') specJson = await besideConfig(configSource);
    let spec: PreprocessSpec | undefined;
    if (preprocessOption === false) spec = undefined;
    else if (preprocessOption !== undefined) spec = await specFromOption(preprocessOption, checkpoint.config);
    else if (specJson !== undefined) spec = specFromConfig(specJson);
    else {
      throw new ModelSourceError(
        'E_NO_PREPROCESSING',
        `no ${PREPROCESSOR_CONFIG} (or timm pretrained_cfg) found with ${sourceName(source)}`,
        'put it beside the weights, or pass preprocess: "timm" | "hf" | "torchvision"',
      );
    }
    const text = checkpoint.dropped.filter((n) => TEXT_TOWER.some((p) => n.startsWith(p)));
    if (text.length > 0) note(`${sourceName(source)} also holds a text tower (${text.length} tensors); loaded its vision tower only`);
    const model = viTFromCheckpoint(checkpoint, seed === undefined ? {} : { seed });
    return new Kind(model, spec, checkpoint.files, decode);
  } catch (e) {
    tf.dispose([...checkpoint.state.values()]);
    throw e;
  }
}

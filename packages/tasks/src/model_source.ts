// One source → a model, its labels and its preprocessing.
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, VitkitError, isPresetName, type ViTConfig, type ViTConfigInput } from '@vitkit/core';
import { isPreprocessPresetName, presetSpec, readBytes, specFromConfig, type DecodeOptions, type PreprocessSpec } from '@vitkit/preprocessing';
import { resolveConfigOption, viTFromCheckpoint, type VisionTransformer } from '@vitkit/vit';
import { loadCheckpoint, type CheckpointSource, type LoadOptions } from '@vitkit/weights';
import { ModelSourceError } from './errors.js';
import { CONFIG_JSON, PREPROCESSOR_CONFIG, sortModelFiles } from './files.js';
import type { ImageInput } from './images.js';
import { prepareBatch, type PreparedBatch } from './prepare.js';

/**
 * Where a model comes from: a local directory or weights file (Node), a URL,
 * `hf://org/repo[@revision]`, the weights' bytes, or (browsers) the Files a
 * user picked or the files of a dropped folder: the weights plus the JSON
 * files, recognized by content (see sortModelFiles).
 */
export type ModelSource = CheckpointSource | readonly Blob[];

/** How images become model inputs: a preset name, a preprocessor_config.json / pretrained_cfg (parsed, or a path or URL), or a PreprocessSpec. */
export type PreprocessOption = string | PreprocessSpec | Record<string, unknown>;

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
  preprocess?: PreprocessOption | false;
  /**
   * The preprocessing to use when the source brings none (no preprocessor_config.json, no timm
   * pretrained_cfg), instead of failing with E_NO_PREPROCESSING. Same forms as `preprocess`.
   */
  defaultPreprocess?: PreprocessOption;
  /** Decoding options for encoded images (pixel limit, EXIF orientation). */
  decode?: DecodeOptions;
  /** Seed for anything initialized rather than loaded. */
  seed?: number;
}


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

/** The PreprocessSpec a preprocessing option names, for a model of this config (preset pipelines need square inputs). */
export async function resolvePreprocess(option: PreprocessOption, config: Pick<ViTConfig, 'imageSize'>): Promise<PreprocessSpec> {
  if (typeof option === 'string') {
    if (isPreprocessPresetName(option)) {
      const [h, w] = config.imageSize;
      if (h !== w) throw new ConfigError(`preset pipelines make square inputs, but the model takes ${h}x${w}`, 'give a preprocessor_config.json instead');
      return presetSpec(option, { size: h });
    }
    return specFromConfig(await readJson(option));
  }
  // A PreprocessSpec has resize/crop/rescale; HF and timm configs name theirs otherwise (do_resize, crop_pct, ...).
  if (['resize', 'crop', 'rescale'].some((k) => k in option)) return option as PreprocessSpec;
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

const TEXT_TOWER = ['text_model.', 'text_projection', 'logit_scale', 'logit_bias'];

/**
 * What the model's head is: `classifier` (logits over labels), `projection` (CLIP's
 * `visual_projection`: image embeddings in the space shared with the text tower, not classes),
 * or `none` (the model returns its pooled features).
 */
export type HeadKind = 'classifier' | 'projection' | 'none';

/** How a TaskModel was put together, for display and for sharing its model (TaskModel.from). */
export interface TaskModelDetails {
  /** Where the preprocessing came from: `preprocessor_config.json`, `timm pretrained_cfg`, `preprocess option`, `defaultPreprocess option`, or `none`. */
  preprocessSource: string;
  head: HeadKind;
  /** Decoding options for encoded images (pixel limit, EXIF orientation). */
  decode: DecodeOptions;
}

export interface PrepareOptions {
  /** Preprocess this call's images another way than the model's own (a preset name, a preprocessor config, a PreprocessSpec). */
  preprocess?: PreprocessOption;
}

type TaskModelClass<T extends TaskModel> = new (...args: ConstructorParameters<typeof TaskModel>) => T;

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
    /** Where the preprocessing came from, what the head is, how images are decoded. */
    readonly details: TaskModelDetails = { preprocessSource: 'none', head: model.config.numClasses > 0 ? 'classifier' : 'none', decode: {} },
  ) {}

  /**
   * Another task on the same loaded model, without loading it again:
   * `ImageEmbedder.from(classifier)` embeds with the classifier's weights and preprocessing.
   * Both share the weights: dispose only one of them.
   */
  static from<T extends TaskModel>(this: TaskModelClass<T>, other: TaskModel): T {
    return new this(other.model, other.spec, other.files, other.details);
  }

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
  async preprocess(images: ImageInput | readonly ImageInput[], options: PrepareOptions = {}): Promise<tf.Tensor4D> {
    return (await this.prepare(images, options)).batch;
  }

  /**
   * As `preprocess`, and also returns each image as the model sees it (8-bit RGB after resize and
   * crop, before normalization) with its decoded size: what an app shows beside a prediction or
   * under an attention map. The caller disposes `batch`.
   */
  async prepare(images: ImageInput | readonly ImageInput[], options: PrepareOptions = {}): Promise<PreparedBatch> {
    const spec = options.preprocess !== undefined ? await resolvePreprocess(options.preprocess, this.config) : this.spec;
    if (!spec) throw new ConfigError('this model was loaded with preprocess: false', 'feed preprocessed batches to model.forward, or load it with a preprocessing');
    const list = Array.isArray(images) ? (images as readonly ImageInput[]) : [images as ImageInput];
    return prepareBatch(list, spec, this.config, this.details.decode);
  }

  /** Frees the model's weights. */
  dispose(): void {
    this.model.dispose();
  }
}

/**
 * Which JSON states a checkpoint's preprocessing, and where it came from: its `preprocessor_config.json`,
 * else a timm config.json holding a `pretrained_cfg` (read either with specFromConfig).
 */
export function foundPreprocessing(sidecars: Record<string, unknown>, configJson: unknown): { json: unknown; source: string } | undefined {
  if (sidecars[PREPROCESSOR_CONFIG] !== undefined) return { json: sidecars[PREPROCESSOR_CONFIG], source: PREPROCESSOR_CONFIG };
  if (isObject(configJson) && isObject(configJson.pretrained_cfg)) return { json: configJson, source: 'timm pretrained_cfg' };
  return undefined;
}

/**
 * Loads a model with its config (labels) and preprocessing from one source.
 * Throws a ModelSourceError naming what is missing.
 */
export async function loadTaskModel<T extends TaskModel = TaskModel>(source: ModelSource, options: TaskOptions = {}, Kind: TaskModelClass<T> = TaskModel as unknown as TaskModelClass<T>): Promise<T> {
  const { config: configOption, preprocess: preprocessOption, defaultPreprocess, decode, seed, ...load } = options;
  const note = options.onNote ?? ((m: string) => console.warn(`vitkit: ${m}`));
  let weights: CheckpointSource;
  let fileSidecars: Record<string, unknown> = {};
  let picked: { file: string; size: number } | undefined;
  if (Array.isArray(source)) {
    const files = await sortModelFiles(source as readonly Blob[]);
    ({ weights, sidecars: fileSidecars } = files);
    // Picked files are read in one go: progress says "started", then "done".
    picked = { file: files.used[0]!, size: files.weights.size };
    load.onProgress?.({ file: picked.file, loaded: 0, total: picked.size });
  } else weights = source as CheckpointSource;
  const configSource = configOption ?? fileSidecars[CONFIG_JSON];
  const configLoad = await resolveConfigOption(configSource as TaskOptions['config']);
  let checkpoint;
  try {
    checkpoint = await loadCheckpoint(weights, { ...load, ...configLoad, sidecars: [CONFIG_JSON, PREPROCESSOR_CONFIG] });
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
  if (picked) load.onProgress?.({ file: picked.file, loaded: picked.size, total: picked.size });
  const sidecars = { ...checkpoint.sidecars, ...fileSidecars };
  const configJson = typeof configSource === 'string' ? undefined : (configSource ?? sidecars[CONFIG_JSON]);
  try {
    checkLabels(configJson, checkpoint.config, 'config.json');
    let found = foundPreprocessing(sidecars, configJson);
    if (found === undefined && typeof configSource === 'string') {
      const beside = await besideConfig(configSource);
      if (beside !== undefined) found = { json: beside, source: PREPROCESSOR_CONFIG };
    }
    let spec: PreprocessSpec | undefined;
    let preprocessSource: string;
    if (preprocessOption === false) [spec, preprocessSource] = [undefined, 'none'];
    else if (preprocessOption !== undefined) [spec, preprocessSource] = [await resolvePreprocess(preprocessOption, checkpoint.config), 'preprocess option'];
    else if (found !== undefined) [spec, preprocessSource] = [specFromConfig(found.json), found.source];
    else if (defaultPreprocess !== undefined) [spec, preprocessSource] = [await resolvePreprocess(defaultPreprocess, checkpoint.config), 'defaultPreprocess option'];
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
    const numClasses = model.config.numClasses;
    // Hugging Face CLIP's only head is visual_projection (loaded as a bias-free head): embeddings, not classes.
    const head: HeadKind = numClasses === 0 ? 'none' : checkpoint.convention === 'hf-clip' ? 'projection' : 'classifier';
    return new Kind(model, spec, checkpoint.files, { preprocessSource, head, decode: decode ?? {} });
  } catch (e) {
    tf.dispose([...checkpoint.state.values()]);
    throw e;
  }
}



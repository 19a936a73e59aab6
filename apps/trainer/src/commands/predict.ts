// `vit predict`: classify images with a ViT checkpoint and print the top-K
// classes, optionally saving logits and attention maps.
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  FormatError,
  ShapeError,
  isPresetName,
  parseNpy,
  presetNames,
  serializeNpy,
  setupBackend,
  type BackendChoice,
  type ViTConfig,
  type ViTConfigInput,
} from '@vitkit/core';
import { PREPROCESS_PRESET_NAMES, loadImageForModel, presetSpec, resolveSpec, type PreprocessSpec } from '@vitkit/preprocessing';
import { disposeViTOutput, viTFromCheckpoint, type VisionTransformer } from '@vitkit/vit';
import { configInputFromJson, fetchBytes, loadCheckpoint, writeFileAtomic, type LoadOptions } from '@vitkit/weights';
import type { Command, Flags } from '../command.js';
import { UsageError } from '../errors.js';
import { booleanFlag, choiceFlag, numberFlag, printable, requiredString, stringFlag } from '../flags.js';

const BACKENDS = ['auto', 'cpu', 'wasm', 'tensorflow'] as const;

const USAGE = `usage: vit predict <input.npy | image...> --weights <checkpoint> [--config <config.json|preset>] [options]

Classifies images with a Vision Transformer and prints the top-K classes.

<input.npy>               NHWC float32 images, already preprocessed: [B, H, W, C] or one image [H, W, C]
<image...>                PNG/JPEG/WebP files, preprocessed with --preprocess
  --weights SOURCE        checkpoint: .safetensors/.npz file, directory, URL or hf://org/repo
                          (timm, Hugging Face, torchvision or JAX names)
  --config FILE|PRESET    Hugging Face (or timm) config.json (path or http(s) URL), or a preset name (${presetNames()[0]}, ...);
                          may be left out when the checkpoint comes with a config.json
  --preprocess NAME       ${PREPROCESS_PRESET_NAMES.join(' | ')}: how image files become model inputs
                          (default: the preprocessor_config.json beside the weights or config)
  --backend NAME          auto | cpu | wasm | tensorflow (default auto)
  --top K                 classes to show per image (default 5)
  --json                  print {"backend", "results": [{"top": [{"index", "label", "probability"}], "logits"}]};
                          for a model without classifier (num_classes 0): {"backend", "results": [{"features"}]}
  --save-logits FILE      write the logits [B, classes] (without classifier: the features) as float32 .npy
  --save-attention DIR    write DIR/attention_block{i}.npy [B, heads, tokens, tokens] for every block

Labels come from the config's id2label; without one, the class index is shown. A model
without classifier (DINOv2, SigLIP image towers) has no classes: it prints its pooled features.
Models with dynamic_img_size take any input size that is a multiple of the patch size.`;

export interface Prediction {
  top: { index: number; label: string; probability: number }[];
  logits: number[];
}

/** What a model without classifier gives per image: its pooled features. */
export interface FeatureResult {
  features: number[];
}

interface ImageBatch {
  data: Float32Array;
  shape: number[];
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'classify images with a ViT checkpoint (top-K, logits, attention maps)',
  usage: USAGE,
  allowPositionals: true,
  options: {
    weights: { type: 'string' },
    config: { type: 'string' },
    preprocess: { type: 'string' },
    backend: { type: 'string' },
    top: { type: 'string' },
    json: { type: 'boolean' },
    'save-logits': { type: 'string' },
    'save-attention': { type: 'string' },
  },
  async run(flags: Flags, positionals: string[]): Promise<number> {
    if (positionals.length === 0) throw new UsageError('missing the input file', 'run `vit predict --help` for usage');
    const weights = requiredString(flags, 'weights');
    const configSpec = stringFlag(flags, 'config');
    const preprocess = choiceFlag(flags, 'preprocess', PREPROCESS_PRESET_NAMES);
    const backendChoice: BackendChoice = choiceFlag(flags, 'backend', BACKENDS) ?? 'auto';
    const topK = numberFlag(flags, 'top', { integer: true, min: 1 }) ?? 5;
    const json = booleanFlag(flags, 'json');
    const saveLogits = stringFlag(flags, 'save-logits');
    const saveAttention = stringFlag(flags, 'save-attention');
    const npyInput = positionals.some((p) => extname(p).toLowerCase() === '.npy');
    if (npyInput && positionals.length > 1) throw new UsageError('give one .npy file (it may hold a batch) or image files, not both');

    const loadOptions = await checkpointOptions(configSpec);
    const backend = await setupBackend(backendChoice);
    const checkpoint = await loadCheckpoint(weights, loadOptions);
    const config = checkpoint.config;
    let model: VisionTransformer | undefined;
    let input: tf.Tensor | undefined;
    try {
      const images = npyInput
        ? await readNpyImages(positionals[0]!, config)
        : await readImageFiles(positionals, config, await imageSpec(preprocess, config, [weights, configSpec]));
      model = viTFromCheckpoint(checkpoint, { seed: 0 }); // frees the checkpoint's tensors
      input = tf.tensor(images.data, images.shape, 'float32');
      const out = model.forward(input, { returnAttention: saveAttention !== undefined });
      try {
        if (saveLogits) await writeNpyAtomic(saveLogits, out.logits);
        if (saveAttention) {
          for (const [i, a] of (out.attentions ?? []).entries()) await writeNpyAtomic(join(saveAttention, `attention_block${i}.npy`), a);
        }
        const names = (npyInput ? [basename(positionals[0]!)] : positionals.map((p) => basename(p))).map(printable);
        if (config.numClasses === 0) {
          const results: FeatureResult[] = (out.features.arraySync() as number[][]).map((features) => ({ features }));
          console.log(json ? JSON.stringify({ backend: backend.name, results }) : formatFeatures(backend.name, results, names));
        } else {
          const results = topPredictions(out.logits, topK, config.labels);
          console.log(json ? JSON.stringify({ backend: backend.name, results }) : formatTable(backend.name, results, names));
        }
      } finally {
        disposeViTOutput(out);
      }
    } finally {
      tf.dispose([...(input ? [input] : []), ...checkpoint.state.values()]);
      model?.dispose();
    }
    return 0;
  },
};

/** `--config`: a preset name, or a config.json file or http(s) URL (transformers, timm hub, or vitkit's camelCase fields). */
async function checkpointOptions(spec: string | undefined): Promise<LoadOptions> {
  if (spec === undefined) return {};
  if (isPresetName(spec)) return { preset: spec };
  const url = /^https?:\/\//i.test(spec);
  if (!(url ? new URL(spec).pathname : spec).toLowerCase().endsWith('.json')) {
    throw new UsageError(`--config "${spec}" is neither a preset nor a .json file`, `use a config.json or one of: ${presetNames().join(', ')}`);
  }
  const bytes = url ? await fetchConfig(spec) : await readInput(spec, 'config');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new FormatError(`${spec} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, 'give a Hugging Face config.json');
  }
  const config: ViTConfigInput | undefined = configInputFromJson(parsed);
  if (!config) throw new FormatError(`${spec} is not a ViT config vitkit understands`, 'give a Hugging Face or timm config.json, or a preset name');
  return { config };
}

async function fetchConfig(url: string): Promise<Uint8Array> {
  const res = await fetchBytes(url);
  if (res.status !== 'ok') throw new UsageError(`no config at ${url}`, 'check the --config URL');
  return res.bytes;
}

async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : e instanceof Error ? e.message : String(e);
    throw new UsageError(`cannot read ${what} file ${path}: ${why}`, `check the ${what} path`);
  }
}

/**
 * A preprocessed NHWC float32 .npy, checked against the model's input size (with
 * dynamic_img_size: the channels here, the size by the model, which names the nearest valid sizes).
 */
async function readNpyImages(path: string, config: ViTConfig): Promise<ImageBatch> {
  const npy = parseNpy(await readInput(path, 'input'));
  if (npy.dtype !== 'float32') {
    throw new FormatError(`${path} holds ${npy.dtype} values, expected float32`, 'save preprocessed (normalized) float32 images');
  }
  const [h, w] = config.imageSize;
  const c = config.inChannels;
  const shape = npy.shape.length === 3 ? [1, ...npy.shape] : npy.shape;
  const sizeOk = config.dynamicImageSize || (shape[1] === h && shape[2] === w);
  if (shape.length !== 4 || !sizeOk || shape[3] !== c) {
    throw new ShapeError(
      `${path} has shape [${npy.shape.join(', ')}], but the model takes [batch, ${h}, ${w}, ${c}] or [${h}, ${w}, ${c}] (NHWC)`,
      npy.shape.length === 4 && npy.shape[1] === c ? 'the input looks NCHW: transpose it to NHWC' : `preprocess images to ${h}x${w} with ${c} channels`,
    );
  }
  const data = npy.data as Float32Array;
  const bad = data.findIndex((v) => v - v !== 0);
  if (bad >= 0) throw new FormatError(`${path} holds ${data[bad]} at element ${bad}`, 'inputs must be finite numbers; preprocess the images again');
  return { data, shape };
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

/**
 * How image files become model inputs: the named pipeline when given, else
 * the `preprocessor_config.json` that Hugging Face exports (and `vit train`
 * writes) beside the weights or the config.
 */
async function imageSpec(preprocess: string | undefined, config: ViTConfig, nearFiles: (string | undefined)[]): Promise<PreprocessSpec> {
  const [h, w] = config.imageSize;
  if (preprocess !== undefined) {
    if (h !== w) throw new UsageError(`--preprocess pipelines make square inputs, but the model takes ${h}x${w}`, 'preprocess to a .npy yourself');
    return presetSpec(preprocess, { size: h });
  }
  for (const file of nearFiles) {
    if (file === undefined || file.includes('://') || isPresetName(file)) continue;
    // A run directory holds its own preprocessor_config.json; a file has it beside it.
    const candidate = join(isDirectory(file) ? file : dirname(file), 'preprocessor_config.json');
    if (existsSync(candidate)) return resolveSpec({ config: candidate });
  }
  throw new UsageError(
    `image inputs need --preprocess ${PREPROCESS_PRESET_NAMES.join('|')} (no preprocessor_config.json beside the weights)`,
    'or give an already preprocessed NHWC float32 .npy',
  );
}

/**
 * Image files decoded and preprocessed with `spec`. Pipelines give RGB; a
 * one-channel model gets the luma of the normalized channels (exact for gray
 * images, whose three channels are equal).
 */
async function readImageFiles(paths: string[], config: ViTConfig, spec: PreprocessSpec): Promise<ImageBatch> {
  const [h, w] = config.imageSize;
  const c = config.inChannels;
  const data = new Float32Array(paths.length * h * w * c);
  for (const [i, path] of paths.entries()) {
    const image = await loadImageForModel(path, { spec });
    const [ih, iw, ic] = image.shape;
    if (ih !== h || iw !== w || (ic !== c && !(c === 1 && ic === 3))) {
      throw new ShapeError(`${path} preprocessed to [${image.shape.join(', ')}], but the model takes [${h}, ${w}, ${c}]`);
    }
    const out = data.subarray(i * h * w * c, (i + 1) * h * w * c);
    if (c === ic) out.set(image.data);
    else for (let p = 0; p < h * w; p++) out[p] = 0.299 * image.data[3 * p]! + 0.587 * image.data[3 * p + 1]! + 0.114 * image.data[3 * p + 2]!;
  }
  return { data, shape: [paths.length, h, w, c] };
}

/** Softmax probabilities and the K best classes of each row of `logits`. */
export function topPredictions(logits: tf.Tensor2D, k: number, labels: string[] | undefined): Prediction[] {
  const rows = logits.arraySync();
  const probs = tf.tidy(() => tf.softmax(logits).arraySync());
  return rows.map((row, i) => {
    const p = probs[i]!;
    const order = p.map((_, j) => j).sort((a, b) => p[b]! - p[a]! || a - b);
    return {
      top: order.slice(0, Math.min(k, row.length)).map((index) => ({ index, label: labels?.[index] ?? String(index), probability: p[index]! })),
      logits: row,
    };
  });
}

/** One block per image: rank, label, class index, probability. */
function formatTable(backend: string, results: Prediction[], inputNames: string[]): string {
  const lines = [`backend: ${backend}`];
  for (const [i, r] of results.entries()) {
    const width = Math.max(5, ...r.top.map((t) => t.label.length));
    const name = inputNames.length === results.length ? inputNames[i]! : `${inputNames[0]} [${i}]`;
    lines.push('', name, `  rank  ${'class'.padEnd(width)}  index  probability`);
    for (const [rank, t] of r.top.entries()) {
      lines.push(`  ${String(rank + 1).padStart(4)}  ${t.label.padEnd(width)}  ${String(t.index).padStart(5)}  ${t.probability.toFixed(4).padStart(11)}`);
    }
  }
  return lines.join('\n');
}

/** One line per image: its feature width and first values. */
function formatFeatures(backend: string, results: FeatureResult[], inputNames: string[]): string {
  const lines = [`backend: ${backend}`, 'the model has no classifier: pooled features per image'];
  for (const [i, r] of results.entries()) {
    const name = inputNames.length === results.length ? inputNames[i]! : `${inputNames[0]} [${i}]`;
    const head = r.features.slice(0, 4).map((v) => v.toFixed(4)).join(', ');
    lines.push(`  ${name}: ${r.features.length} features [${head}${r.features.length > 4 ? ', ...' : ''}]`);
  }
  return lines.join('\n');
}

/** Writes a tensor as float32 .npy atomically (temp file + rename), so readers never see half a file. */
async function writeNpyAtomic(path: string, t: tf.Tensor): Promise<void> {
  const bytes = serializeNpy({ shape: [...t.shape], dtype: 'float32', data: t.dataSync() as Float32Array });
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, bytes);
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`, 'check that the directory is writable');
  }
}

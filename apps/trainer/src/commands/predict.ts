// `vit predict`: classify images with a ViT checkpoint and print the top-K
// classes, optionally saving logits and attention maps.
import { basename, extname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { FormatError, ShapeError, parseNpy, presetNames, setupBackend, type BackendChoice, type ViTConfig } from '@vitkit/core';
import { PREPROCESS_PRESET_NAMES } from '@vitkit/preprocessing';
import { TaskModel, topPredictions, type Prediction } from '@vitkit/tasks';
import { disposeViTOutput } from '@vitkit/vit';
import type { Command, Flags } from '../command.js';
import { UsageError } from '../errors.js';
import { BACKENDS, loadTask, MODEL_SOURCE_OPTIONS, readInput, writeNpyAtomic } from '../task_source.js';
import { booleanFlag, choiceFlag, numberFlag, printable, requiredString, stringFlag } from '../flags.js';

const USAGE = `usage: vit predict <input.npy | image...> --weights <checkpoint> [--config <config.json|preset>] [options]

Classifies images with a Vision Transformer and prints the top-K classes.

<input.npy>               NHWC float32 images, already preprocessed: [B, H, W, C] or one image [H, W, C]
<image...>                PNG/JPEG/WebP files, preprocessed with --preprocess
  --weights SOURCE        checkpoint: .safetensors/.npz file, directory, URL or hf://org/repo[@rev]
                          (timm, Hugging Face, torchvision or JAX names); its config.json (labels)
                          and preprocessor_config.json are used when present
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

export type { Prediction };

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
    ...MODEL_SOURCE_OPTIONS,
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

    const backend = await setupBackend(backendChoice);
    const task = await loadTask(weights, { config: configSpec, preprocess: npyInput ? false : preprocess }, TaskModel);
    const config = task.config;
    let input: tf.Tensor | undefined;
    try {
      if (npyInput) {
        const images = await readNpyImages(positionals[0]!, config);
        input = tf.tensor(images.data, images.shape, 'float32');
      } else input = await task.preprocess(positionals);
      const out = task.model.forward(input, { returnAttention: saveAttention !== undefined });
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
          const results = topPredictions(out.logits, topK, config.labels).map(({ top, logits }) => ({
            top: top.map(({ index, label, probability }) => ({ index, label, probability })),
            logits,
          }));
          console.log(json ? JSON.stringify({ backend: backend.name, results }) : formatTable(backend.name, results, names));
        }
      } finally {
        disposeViTOutput(out);
      }
    } finally {
      input?.dispose();
      task.dispose();
    }
    return 0;
  },
};

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

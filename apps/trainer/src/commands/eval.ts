// `vit eval`: top-1 accuracy of a checkpoint on a dataset's test split.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setupBackend, type BackendChoice } from '@vitkit/core';
import { evaluate, loadDataset, PREPROCESSOR_FILE, TEST_TIME_AUGMENTATIONS, type ImageDataset, type Normalization } from '@vitkit/training';
import type { Command, Flags } from '../command.js';
import { UsageError } from '../errors.js';
import { booleanFlag, choiceFlag, numberFlag, requiredString, stringFlag } from '../flags.js';
import { buildModel, readConfigSpec } from '../train/model_setup.js';
import { DEFAULT_DATA } from './train.js';

const BACKENDS = ['auto', 'cpu', 'wasm', 'tensorflow'] as const;

const USAGE = `usage: vit eval --weights <file|run dir> [--config <config.json|preset>] [--data <spec>] [options]

Prints the top-1 accuracy of a model on a dataset: its test split when it has
one (t10k-*, test_batch.bin, test/ or val/), otherwise all of it.

  --weights SRC           checkpoint (any format vit train --weights reads) or a vit train run directory
  --config FILE|PRESET    architecture, when the checkpoint has no config.json beside it
  --data SPEC             as for vit train (default: the Fashion-MNIST subset in data/)
  --split NAME            test | train | all (default test, or all when the data has no test split)
  --num-classes N         force the label count of the data
  --batch-size N          images per forward pass (default 256)
  --tta none|flip         test-time augmentation: flip averages the class probabilities
                          of each image and its mirror image (default none)
  --backend NAME          auto | wasm | cpu | tensorflow (default auto)
  --json                  print {"accuracy", "loss", "count", "split", "tta", "backend"}

Images are normalized as the run that made the checkpoint did when its
preprocessor_config.json lies beside the weights; otherwise with the dataset's defaults.`;

/** Reads image_mean / image_std from a preprocessor_config.json beside the weights, if there is one. */
function normalizationBeside(weights: string): Normalization | undefined {
  const dir = existsSync(weights) && statSync(weights).isDirectory() ? weights : dirname(weights);
  const path = join(dir, PREPROCESSOR_FILE);
  if (!existsSync(path)) return undefined;
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as { do_normalize?: boolean; image_mean?: number[]; image_std?: number[] };
  if (cfg.do_normalize === false) return undefined;
  if (Array.isArray(cfg.image_mean) && Array.isArray(cfg.image_std)) return { mean: cfg.image_mean, std: cfg.image_std };
  return undefined;
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'accuracy of a checkpoint on a dataset (e.g. a vit train run on its test split)',
  usage: USAGE,
  options: {
    weights: { type: 'string' },
    config: { type: 'string' },
    data: { type: 'string' },
    split: { type: 'string' },
    'num-classes': { type: 'string' },
    'batch-size': { type: 'string' },
    backend: { type: 'string' },
    tta: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(flags: Flags): Promise<number> {
    const weights = requiredString(flags, 'weights');
    const config = readConfigSpec(stringFlag(flags, 'config'));
    const data = stringFlag(flags, 'data') ?? DEFAULT_DATA;
    const splitName = choiceFlag(flags, 'split', ['test', 'train', 'all'] as const);
    const numClasses = numberFlag(flags, 'num-classes', { integer: true, min: 1 });
    const batchSize = numberFlag(flags, 'batch-size', { integer: true, min: 1 }) ?? 256;
    const tta = choiceFlag(flags, 'tta', TEST_TIME_AUGMENTATIONS) ?? 'none';
    const json = booleanFlag(flags, 'json');
    const backend = await setupBackend(choiceFlag(flags, 'backend', BACKENDS) ?? ('auto' as BackendChoice));

    const { model } = await buildModel({ weights, ...(config ? { config } : {}), seed: 0 });
    try {
      const dataset = await loadDataset(data === 'fashion-mnist' ? data : resolve(data), {
        ...(numClasses !== undefined ? { numClasses } : {}),
        imageSize: model.config.imageSize,
      });
      let ds: ImageDataset;
      let split: string;
      if (splitName === 'train' || splitName === 'all' || !dataset.test) {
        if (splitName === 'test') throw new UsageError(`${dataset.source} has no test split`, 'use --split all');
        ds = dataset.train;
        split = splitName ?? 'all';
      } else {
        ds = dataset.test;
        split = 'test';
      }
      // Normalize uint8 images as training did (float images are used as they are).
      const norm = normalizationBeside(weights);
      if (norm && norm.mean.length === ds.shape[3]) ds = { ...ds, normalization: norm };
      if (ds.numClasses > model.config.numClasses) {
        throw new UsageError(`the data has ${ds.numClasses} classes but the model only ${model.config.numClasses}`, 'evaluate on data with the classes the model was trained on');
      }
      const r = evaluate(model, ds, { batchSize, tta });
      if (json) {
        console.log(JSON.stringify({ accuracy: r.accuracy, loss: r.loss, count: r.count, split, tta, backend: backend.name }));
      } else {
        const views = tta === 'flip' ? '; with flipped views' : '';
        console.log(`accuracy: ${(r.accuracy * 100).toFixed(2)}% on ${r.count} images (${ds.name}, ${split}${views}; loss ${r.loss.toFixed(4)}; backend ${backend.name})`);
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
};

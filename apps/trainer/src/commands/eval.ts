// `vit eval`: top-1 accuracy of a checkpoint on a dataset's test split.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MAX_CLASSES, setupBackend, type BackendChoice } from '@vitkit/core';
import {
  DEFAULT_TTA_ZOOM,
  evaluate,
  loadDataset,
  PREPROCESSOR_FILE,
  RUN_FILES,
  TEST_TIME_AUGMENTATIONS,
  type ImageDataset,
  type Normalization,
} from '@vitkit/training';
import type { Command, Flags } from '../command.js';
import { UsageError } from '../errors.js';
import { booleanFlag, choiceFlag, numberFlag, printable, requiredString, stringFlag } from '../flags.js';
import { buildModel, readConfigSpec } from '../train/model_setup.js';
import { DEFAULT_DATA, trainValSplit } from './train.js';

const BACKENDS = ['auto', 'cpu', 'wasm', 'tensorflow'] as const;

const USAGE = `usage: vit eval --weights <file|run dir> [--config <config.json|preset>] [--data <spec>] [options]

Prints the top-1 accuracy of a model on a dataset: its test split when it has
one (t10k-*, test_batch.bin, test/ or val/), otherwise all of it.

  --weights SRC           checkpoint (any format vit train --weights reads) or a vit train run directory
  --config FILE|PRESET    architecture, when the checkpoint has no config.json beside it
  --data SPEC             as for vit train (default: the Fashion-MNIST subset in data/)
  --split NAME            test | train | all | val (default test, or all when the data has no test split);
                          val: the images the vit train run beside the weights held out for validation
                          (its --data, --val-split and --seed, read from its trainer_state.json)
  --num-classes N         force the label count of the data
  --batch-size N          images per forward pass (default 256)
  --tta none|flip|flip-zoom
                          test-time augmentation: flip averages the class probabilities
                          of each image and its mirror image; flip-zoom adds an enlarged
                          centre crop of each, four views in all (default none)
  --tta-zoom F            side fraction of flip-zoom's centre crop (default ${DEFAULT_TTA_ZOOM.toFixed(3)},
                          the smallest crop of vit train's default --crop-scale 0.85)
  --backend NAME          auto | wasm | cpu | tensorflow (default auto)
  --json                  print {"accuracy", "loss", "count", "split", "tta", "backend"} (and "zoom" with flip-zoom)

Images are normalized as the run that made the checkpoint did when its
preprocessor_config.json lies beside the weights; otherwise with the dataset's defaults.`;

/** The directory of a weights file, or the directory itself. */
function dirOf(weights: string): string {
  return existsSync(weights) && statSync(weights).isDirectory() ? weights : dirname(weights);
}

/**
 * The --val-split and --seed of the vit train run that wrote `weights`, from
 * its trainer_state.json (in the run's checkpoint/ or beside the weights),
 * with its --data.
 */
function heldOutSettings(weights: string): { valSplit: number; seed: number; data: string | undefined } {
  const dir = dirOf(weights);
  const path = [join(dir, RUN_FILES.checkpointDir, RUN_FILES.state), join(dir, RUN_FILES.state)].find((p) => existsSync(p));
  if (!path) {
    throw new UsageError(`--split val needs the vit train run that made ${weights}, and ${dir} has no ${RUN_FILES.state}`, 'pass weights from a vit train run directory, or use --split test');
  }
  const state = JSON.parse(readFileSync(path, 'utf8')) as { options?: { seed?: unknown }; extra?: { settings?: { valSplit?: unknown; data?: unknown } } };
  const valSplit = state.extra?.settings?.valSplit;
  const seed = state.options?.seed;
  if (typeof valSplit !== 'number' || typeof seed !== 'number') {
    throw new UsageError(`${path} does not record the run's --val-split and --seed`, 'use --split test');
  }
  const data = state.extra?.settings?.data;
  return { valSplit, seed, data: typeof data === 'string' ? data : undefined };
}

/** Reads image_mean / image_std from a preprocessor_config.json beside the weights, if there is one. */
function normalizationBeside(weights: string): Normalization | undefined {
  const path = join(dirOf(weights), PREPROCESSOR_FILE);
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
    'tta-zoom': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(flags: Flags): Promise<number> {
    const weights = requiredString(flags, 'weights');
    const config = readConfigSpec(stringFlag(flags, 'config'));
    const splitName = choiceFlag(flags, 'split', ['test', 'train', 'all', 'val'] as const);
    const numClasses = numberFlag(flags, 'num-classes', { integer: true, min: 1, max: MAX_CLASSES });
    const batchSize = numberFlag(flags, 'batch-size', { integer: true, min: 1 }) ?? 256;
    const tta = choiceFlag(flags, 'tta', TEST_TIME_AUGMENTATIONS) ?? 'none';
    const zoom = numberFlag(flags, 'tta-zoom', { min: 0, max: 1 }) ?? DEFAULT_TTA_ZOOM;
    if (zoom === 0) throw new UsageError('--tta-zoom must be above 0', 'give the side fraction of the centre crop, e.g. 0.92');
    const heldOut = splitName === 'val' ? heldOutSettings(weights) : undefined;
    // The held-out images only exist in the run's own data.
    const data = stringFlag(flags, 'data') ?? heldOut?.data ?? DEFAULT_DATA;
    const json = booleanFlag(flags, 'json');
    const backend = await setupBackend(choiceFlag(flags, 'backend', BACKENDS) ?? ('auto' as BackendChoice));

    const { model } = await buildModel({ weights, ...(config ? { config } : {}), seed: 0 });
    try {
      const dataset = await loadDataset(data === 'fashion-mnist' ? data : resolve(data), {
        ...(numClasses !== undefined ? { numClasses } : {}),
        imageSize: model.config.imageSize,
        onWarning: (m) => process.stderr.write(`warning: ${printable(m)}\n`),
      });
      let ds: ImageDataset;
      let split: string;
      if (heldOut) {
        const val = trainValSplit(dataset.train, heldOut.valSplit, heldOut.seed).val;
        if (!val) throw new UsageError('the run held out no validation images (--val-split 0)', 'use --split test');
        ds = val;
        split = 'val';
      } else if (splitName === 'train' || splitName === 'all' || !dataset.test) {
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
      const [, , , channels] = ds.shape;
      // ImageFolder decodes every image to RGB; a gray model sees their luma. Other data is stored with its channels.
      if (channels !== model.config.inChannels && dataset.kind !== 'image-folder') {
        throw new UsageError(`the data has ${channels}-channel images but the model takes ${model.config.inChannels === 1 ? '1 channel' : `${model.config.inChannels} channels`}`, 'evaluate on data like the data the model was trained on (--data)');
      }
      if (ds.classNames && numClasses === undefined && ds.classNames.length !== model.config.numClasses) {
        throw new UsageError(
          `the data has ${ds.classNames.length} classes (${ds.classNames.slice(0, 4).join(', ')}${ds.classNames.length > 4 ? ', ...' : ''}) but the model ${model.config.numClasses}`,
          'evaluate on data with the classes the model was trained on (--data)',
        );
      }
      if (ds.numClasses > model.config.numClasses) {
        throw new UsageError(`the data has ${ds.numClasses} classes but the model only ${model.config.numClasses}`, 'evaluate on data with the classes the model was trained on');
      }
      const r = evaluate(model, ds, { batchSize, tta, zoom });
      if (json) {
        console.log(JSON.stringify({ accuracy: r.accuracy, loss: r.loss, count: r.count, split, tta, ...(tta === 'flip-zoom' ? { zoom } : {}), backend: backend.name }));
      } else {
        const views = { none: '', flip: '; with flipped views', 'flip-zoom': `; with flipped and zoomed (${zoom.toFixed(3)}) views` }[tta];
        console.log(`accuracy: ${(r.accuracy * 100).toFixed(2)}% on ${r.count} images (${ds.name}, ${split}${views}; loss ${r.loss.toFixed(4)}; backend ${backend.name})`);
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
};

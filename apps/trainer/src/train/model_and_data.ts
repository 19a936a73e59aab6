// The data and the model of one `vit train` run, in the order they depend
// on each other. From scratch the data comes first (its image size,
// channels and classes shape the model). Fine-tuning (--weights) loads the
// model first: the class folders' names set its new head (read without
// decoding), and its own preprocessing (preprocessor_config.json / timm
// pretrained_cfg) decides how the images are resized, cropped and
// normalized, so that training sees what `vit predict` will feed it.
import type { ViTConfigInput } from '@vitkit/core';
import { specFromConfig } from '@vitkit/preprocessing';
import {
  checkInferredClassCount,
  datasetClassNames,
  datasetNormalization,
  defaultFolderPreprocessing,
  disposeRunCheckpoint,
  loadDataset,
  preprocessedSize,
  type LoadedDataset,
  type RunCheckpoint,
} from '@vitkit/training';
import { configInputFromJson } from '@vitkit/weights';
import { UsageError } from '../errors.js';
import { printable } from '../flags.js';
import { buildModel, readConfigSpec, type CheckpointPreprocessing, type ModelSetup } from './model_setup.js';
import type { RunSettings } from './options.js';

export interface ModelAndData {
  dataset: LoadedDataset;
  setup: ModelSetup;
  /**
   * How the images were made, for the run's preprocessor_config.json (kept in the settings for
   * --resume): a fine-tuned checkpoint's own, or an ImageFolder's default; undefined for other data.
   */
  preprocessing: CheckpointPreprocessing | undefined;
}

/** An ImageFolder's default preprocessing at the model's size (see defaultFolderPreprocessing). */
function folderDefault(size: [number, number]): CheckpointPreprocessing {
  const json = defaultFolderPreprocessing(size);
  return { spec: specFromConfig(json), json };
}

const warn = (m: string): void => {
  process.stderr.write(`warning: ${printable(m)}\n`);
};

/** Loads the data (`preprocessing`: as a fine-tuned checkpoint's own), passing its messages on. */
function readData(settings: RunSettings, log: (text: string) => void, extra: { imageSize?: ViTConfigInput['imageSize']; preprocessing?: CheckpointPreprocessing; channels?: number }): Promise<LoadedDataset> {
  const size = extra.imageSize;
  return loadDataset(settings.data, {
    ...(settings.numClasses !== undefined ? { numClasses: settings.numClasses } : {}),
    ...(size !== undefined ? { imageSize: typeof size === 'number' ? [size, size] : size } : {}),
    ...(extra.preprocessing ? { preprocess: extra.preprocessing.spec } : {}),
    ...(extra.channels !== undefined ? { channels: extra.channels } : {}),
    fashionMnist: { onProgress: (m) => log(m) },
    onWarning: warn,
  });
}

/** Loads the data and builds the model (from the resumed checkpoint's config, --weights, --config or the default). */
export async function loadModelAndData(settings: RunSettings, checkpoint: RunCheckpoint | undefined, log: (text: string) => void): Promise<ModelAndData> {
  let configInput: ViTConfigInput | undefined;
  try {
    configInput = settings.model ?? readConfigSpec(settings.config);
  } catch (e) {
    if (checkpoint) disposeRunCheckpoint(checkpoint);
    throw e;
  }
  const seed = settings.trainer.seed ?? 0;
  const overrides: ViTConfigInput = {
    dropout: settings.dropout,
    dropPath: settings.dropPath,
    ...(settings.imageSize !== undefined ? { imageSize: settings.imageSize } : {}),
  };
  // A resumed run rebuilds the architecture from its checkpoint's config.json (weights are restored later).
  const resumedConfig = checkpoint ? configInputFromJson(checkpoint.config) : undefined;
  const config = resumedConfig ?? configInput;
  if (settings.weights) return fineTuning(settings, { checkpoint, config, resumedConfig, overrides, seed, log });

  let dataset: LoadedDataset;
  try {
    dataset = await readData(settings, log, { ...(settings.imageSize !== undefined ? { imageSize: settings.imageSize } : configInput?.imageSize !== undefined ? { imageSize: configInput.imageSize } : {}) });
  } catch (e) {
    if (checkpoint) disposeRunCheckpoint(checkpoint);
    throw e;
  }
  // With no count given (--num-classes, a checkpoint) and no class names, the largest label sets the classifier's width.
  if (!checkpoint && settings.numClasses === undefined && !dataset.train.classNames) checkInferredClassCount(dataset.train);
  const [, h, w, c] = dataset.train.shape;
  const setup = await buildModel({
    ...(config ? { config } : {}),
    ...(resumedConfig?.numClasses !== undefined ? { numClasses: resumedConfig.numClasses } : settings.numClasses !== undefined ? { numClasses: settings.numClasses } : {}),
    overrides,
    fromData: {
      imageSize: [h, w],
      inChannels: c,
      numClasses: dataset.train.numClasses,
      ...(dataset.train.classNames ? { labels: dataset.train.classNames } : {}),
    },
    seed,
  });
  return { dataset, setup, preprocessing: dataset.kind === 'image-folder' ? folderDefault([h, w]) : undefined };
}

interface FineTuneContext {
  checkpoint: RunCheckpoint | undefined;
  config: ViTConfigInput | undefined;
  resumedConfig: ViTConfigInput | undefined;
  overrides: ViTConfigInput;
  seed: number;
  log: (text: string) => void;
}

/** --weights: the model first (classes from the folder names), then the data preprocessed as the checkpoint says. */
async function fineTuning(settings: RunSettings, x: FineTuneContext): Promise<ModelAndData> {
  let setup: ModelSetup;
  // An ImageFolder's class folders (undefined for other data); a resumed run has its classes in its config.
  const classNames = datasetClassNames(settings.data);
  try {
    const numClasses = x.resumedConfig?.numClasses ?? settings.numClasses ?? classNames?.length;
    setup = await buildModel({
      ...(x.checkpoint ? {} : { weights: settings.weights! }),
      ...(x.config ? { config: x.config } : {}),
      ...(numClasses !== undefined ? { numClasses } : {}),
      ...(!x.checkpoint && classNames?.length === numClasses ? { labels: classNames } : {}),
      overrides: x.overrides,
      seed: x.seed,
    });
  } catch (e) {
    if (x.checkpoint) disposeRunCheckpoint(x.checkpoint);
    throw e;
  }
  const { model } = setup;
  try {
    // A resumed run preprocesses as it started (the checkpoint's preprocessing is saved in its settings).
    const saved = settings.preprocessing;
    const preprocessing = saved ? { spec: specFromConfig(saved), json: saved } : setup.preprocessing;
    const [mh, mw] = model.config.imageSize;
    const geometry = classNames !== undefined && preprocessing !== undefined;
    if (geometry) {
      const [h, w] = preprocessedSize(preprocessing.spec);
      if (h !== mh || w !== mw) {
        throw new UsageError(
          `${settings.weights}'s preprocessing makes ${h}x${w} inputs, but the model is set to ${mh}x${mw}${settings.imageSize !== undefined ? ' (--image-size)' : ''}`,
          settings.imageSize !== undefined ? 'drop --image-size to fine-tune at the size the checkpoint was trained at' : "fix the checkpoint's preprocessor_config.json",
        );
      }
    }
    const dataset = await readData(settings, x.log, { imageSize: [mh, mw], channels: model.config.inChannels, ...(geometry ? { preprocessing } : {}) });
    // Other uint8 data (IDX, CIFAR) keeps its geometry but is normalized as the checkpoint was trained.
    const c = dataset.train.shape[3];
    if (preprocessing && !geometry && (c === 1 || c === 3)) {
      const norm = datasetNormalization(preprocessing.spec, c);
      for (const ds of [dataset.train, dataset.test]) if (ds && ds.images instanceof Uint8Array) ds.normalization = norm;
    }
    // A folder without the checkpoint's preprocessing got the default geometry: the run states it.
    return { dataset, setup, preprocessing: preprocessing ?? (classNames !== undefined ? folderDefault([mh, mw]) : undefined) };
  } catch (e) {
    model.dispose();
    if (x.checkpoint) disposeRunCheckpoint(x.checkpoint);
    throw e;
  }
}

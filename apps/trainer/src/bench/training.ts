import { basename } from 'node:path';
import { measureTrainingThroughput, registerGradients, type TrainingThroughput } from '@vitkit/training';
import type { VisionTransformer } from '@vitkit/vit';
import { TRAIN_DEFAULTS } from '../commands/train.js';
import { buildModel, readConfigSpec } from '../train/model_setup.js';

/** What `vit train` trains with no options: Fashion-MNIST images, 10 classes. */
export const TRAINER_DEFAULT_DATA = { imageSize: [28, 28] as [number, number], inChannels: 1, numClasses: 10 };

/** A short label for the measured training model in tables: the trainer's default or the --train-config given. */
export function trainingModelLabel(model: VisionTransformer, configSpec?: string): string {
  const c = model.config;
  const name = configSpec === undefined ? 'trainer default' : basename(configSpec);
  return `${name} (${c.imageSize[0]}x${c.imageSize[1]}x${c.inChannels}, patch ${c.patchSize}, dim ${c.embedDim}, depth ${c.depth})`;
}

/**
 * Training speed of the model `vit train` builds by default (or of
 * `configSpec`, a config.json or preset name, as `vit train --config` takes
 * it), with the default batch size: full steps (forward, backward, clipping,
 * AdamW) in one process on the current backend, as @vitkit/training measures them.
 */
export async function measureTrainingModel(
  steps: number,
  warmupSteps: number,
  configSpec?: string,
): Promise<{ model: VisionTransformer; throughput: TrainingThroughput }> {
  await registerGradients();
  const config = readConfigSpec(configSpec);
  const { model } = await buildModel({
    ...(config ? { config } : {}),
    fromData: TRAINER_DEFAULT_DATA,
    overrides: { dropout: TRAIN_DEFAULTS.dropout, dropPath: TRAIN_DEFAULTS.dropPath },
    seed: TRAIN_DEFAULTS.seed,
  });
  try {
    const throughput = measureTrainingThroughput(model, { batch: TRAIN_DEFAULTS.batchSize, steps, warmupSteps });
    return { model, throughput };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

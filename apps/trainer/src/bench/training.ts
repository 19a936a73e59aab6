import { measureTrainingThroughput, registerGradients, type TrainingThroughput } from '@vitkit/training';
import type { VisionTransformer } from '@vitkit/vit';
import { TRAIN_DEFAULTS } from '../commands/train.js';
import { buildModel } from '../train/model_setup.js';

/** What `vit train` trains with no options: Fashion-MNIST images, 10 classes. */
export const TRAINER_DEFAULT_DATA = { imageSize: [28, 28] as [number, number], inChannels: 1, numClasses: 10 };

/** A short label for the trainer's default model in tables. */
export function trainerDefaultLabel(model: VisionTransformer): string {
  const c = model.config;
  return `trainer default (${c.imageSize[0]}x${c.imageSize[1]}x${c.inChannels}, patch ${c.patchSize}, dim ${c.embedDim}, depth ${c.depth})`;
}

/**
 * Training speed of the model `vit train` builds by default, with its
 * default batch size: full steps (forward, backward, clipping, AdamW) on the
 * current backend, as @vitkit/training measures them.
 */
export async function measureTrainerDefault(steps: number, warmupSteps: number): Promise<{ model: VisionTransformer; throughput: TrainingThroughput }> {
  await registerGradients();
  const { model } = await buildModel({
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

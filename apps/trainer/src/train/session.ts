// What one `vit train` run trains: the data (with its validation split), the
// model (from a resumed checkpoint, --weights, a config or the default
// architecture), the data-parallel workers and the Trainer.
import type { BackendName } from '@vitkit/core';
import {
  defaultAugmentation,
  disposeRunCheckpoint,
  embedDataset,
  GradientWorkerPool,
  restoreTrainer,
  splitIndices,
  subset,
  Trainer,
  type ImageDataset,
  type LoadedDataset,
  type RunCheckpoint,
} from '@vitkit/training';
import type { VisionTransformer } from '@vitkit/vit';
import { loadModelAndData } from './model_and_data.js';
import type { CheckpointPreprocessing, ModelSetup } from './model_setup.js';
import { TRAIN_DEFAULTS, type RunSettings } from './options.js';

/** Splits off the validation set (seeded, the same on resume and in `vit eval --split val`). */
export function trainValSplit(train: ImageDataset, fraction: number, seed: number): { train: ImageDataset; val: ImageDataset | undefined } {
  const { train: ti, val: vi } = splitIndices(train.shape[0], fraction, seed);
  if (vi.length === 0) return { train, val: undefined };
  return { train: subset(train, ti, train.name), val: subset(train, vi, train.name.replace(/train$/, 'val')) };
}

/** Warmup in steps: a count, or a fraction (< 1) of all steps. */
function warmupSteps(warmup: number, totalSteps: number): number {
  return warmup < 1 ? Math.round(warmup * totalSteps) : Math.round(warmup);
}

export interface TrainingSession {
  dataset: LoadedDataset;
  split: { train: ImageDataset; val: ImageDataset | undefined };
  model: VisionTransformer;
  setup: ModelSetup;
  trainer: Trainer;
  /** Images per optimizer step. */
  perStep: number;
  /** Smallest crop area fraction of the augmentation (flip-zoom test views zoom as much). */
  cropScale: number;
  /** The fine-tuned checkpoint's preprocessing the inputs were made with (the run's preprocessor_config.json). */
  preprocessing: CheckpointPreprocessing | undefined;
  /** Stops the workers and frees the trainer and the model. */
  close(): Promise<void>;
}

export interface SessionOptions {
  /** The checkpoint being resumed; disposed here once restored. */
  checkpoint: RunCheckpoint | undefined;
  workers: number;
  backend: BackendName;
  log: (text: string) => void;
}

/** Loads the data, builds the model and the Trainer (restored from the checkpoint when resuming). */
export async function openSession(settings: RunSettings, o: SessionOptions): Promise<TrainingSession> {
  const { checkpoint } = o;
  const { dataset, setup, preprocessing } = await loadModelAndData(settings, checkpoint, o.log);
  const model = setup.model;
  const seed = settings.trainer.seed ?? 0;
  const split = trainValSplit(dataset.train, settings.valSplit, seed);
  if (settings.valSplit > 0 && !split.val) {
    process.stderr.write(`warning: ${dataset.train.shape[0]} training images are too few for a ${settings.valSplit * 100}% validation split (it would hold none): training without per-epoch accuracy; add images, or pass --val-split 0 to say so\n`);
  }
  const perStep = (settings.trainer.batchSize ?? 1) * (settings.trainer.gradAccum ?? 1);
  const totalSteps = settings.trainer.steps ?? (settings.trainer.epochs ?? 1) * Math.max(1, Math.floor(split.train.shape[0] / perStep));
  const cropScale = settings.cropScale ?? TRAIN_DEFAULTS.cropScale;
  let pool: GradientWorkerPool | undefined;
  let trainer: Trainer;
  try {
    if (o.workers > 1) pool = await GradientWorkerPool.start({ count: o.workers - 1, config: model.config, backend: o.backend });
    // A resumed probe embeds with the checkpoint's backbone (the same as the run's: it is frozen).
    if (settings.cacheEmbeddings && checkpoint) model.loadStateDict(checkpoint.weights);
    const embeddings = settings.cacheEmbeddings ? embedDataset(model, split.train) : undefined;
    if (embeddings) o.log(`embedded ${embeddings.count} training images once (${embeddings.rowShape.join('x')} features each)`);
    trainer = new Trainer(model, split.train, {
      ...(embeddings ? { embeddings } : {}),
      ...settings.trainer,
      ...(pool ? { workers: pool } : {}),
      warmup: Math.min(warmupSteps(settings.warmup, totalSteps), totalSteps),
      ...(settings.augment && split.train.images instanceof Uint8Array ? { augment: defaultAugmentation({ scale: [cropScale, 1] }) } : {}),
    });
    if (checkpoint) restoreTrainer(trainer, checkpoint);
  } catch (e) {
    await pool?.close();
    model.dispose();
    throw e;
  } finally {
    if (checkpoint) disposeRunCheckpoint(checkpoint);
  }
  const close = async (): Promise<void> => {
    await pool?.close();
    trainer.dispose();
    model.dispose();
  };
  return { dataset, split, model, setup, trainer, perStep, cropScale, preprocessing, close };
}

/** Ctrl-C (or SIGTERM): the first aborts `signal` so the run checkpoints and stops; the second quits at once. */
export function onInterrupt(quiet: boolean): { signal: AbortSignal; remove(): void } {
  const controller = new AbortController();
  let interrupts = 0;
  const handler = (): void => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    if (!quiet) process.stderr.write('\ninterrupted: saving a checkpoint (Ctrl-C again to quit without saving)\n');
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    remove: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

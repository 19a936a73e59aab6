// `vit train`: trains or fine-tunes a ViT on an image dataset and writes a
// run directory (weights, config, optimizer state, metrics, plot). With no
// arguments it is the project's default run: a small ViT on the Fashion-MNIST
// subset shipped in data/, in a few minutes on two CPU cores.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupBackend, type BackendChoice, type ViTConfigInput } from '@vitkit/core';
import {
  GradientWorkerPool,
  DEFAULT_CROP_SCALE,
  RUN_FILES,
  Trainer,
  checkpointDirOf,
  defaultAugmentation,
  disposeRunCheckpoint,
  loadDataset,
  readRunCheckpoint,
  registerGradients,
  restoreTrainer,
  runTraining,
  splitIndices,
  subset,
  TEST_TIME_AUGMENTATIONS,
  type ImageDataset,
  type LoadedDataset,
  type RunCheckpoint,
  type TrainerOptions,
} from '@vitkit/training';
import { configInputFromJson } from '@vitkit/weights';
import type { Command, Flags } from '../command.js';
import { UsageError } from '../errors.js';
import { booleanFlag, choiceFlag, numberFlag, stringFlag } from '../flags.js';
import { buildModel, readConfigSpec } from '../train/model_setup.js';
import { formatDuration, ProgressBar } from '../train/progress.js';

const BACKENDS = ['auto', 'cpu', 'wasm', 'tensorflow'] as const;

/** The Fashion-MNIST subset that ships with the repository (data/fashion-mnist-subset). */
export const DEFAULT_DATA = resolve(fileURLToPath(new URL('../../../../data/fashion-mnist-subset', import.meta.url)));

/** The default recipe: every training flag's value when not given. */
export const TRAIN_DEFAULTS = {
  epochs: 8,
  batchSize: 128,
  lr: 2e-3,
  minLr: 1e-5,
  weightDecay: 0.05,
  labelSmoothing: 0.1,
  clipGrad: 1,
  warmup: 0.05,
  dropout: 0,
  dropPath: 0,
  valSplit: 0.05,
  cropScale: DEFAULT_CROP_SCALE,
  logEvery: 10,
  seed: 0,
} as const;

const USAGE = `usage: vit train [options]

Trains (or fine-tunes) a Vision Transformer and writes a run directory:
model.safetensors (timm names), config.json (Hugging Face, or vitkit fields for what
HF cannot express, such as mean pooling), checkpoint/ (weights,
optimizer.safetensors, trainer_state.json), metrics.jsonl, training_curves.svg.
With no options: a small ViT on the Fashion-MNIST subset in data/ (a few minutes on 2 cores).
Ctrl-C saves a checkpoint and stops; --resume <dir> continues exactly where it stopped.

data
  --data SPEC             fashion-mnist | a directory: MNIST-style IDX (.gz ok), CIFAR-10 binary,
                          input_nhwc.npy + labels.npy, or ImageFolder (class subfolders of images)
                          (default: the Fashion-MNIST subset in data/fashion-mnist-subset)
  --val-split F           fraction of the training set held out for per-epoch accuracy (default ${TRAIN_DEFAULTS.valSplit})
  --num-classes N         classifier outputs (default: from the data; with --weights, a fresh head if different)
model
  --weights SRC           start from a checkpoint (safetensors/npz, timm/HF/torchvision/JAX names, hf://...)
  --config FILE|PRESET    architecture: config.json or a preset (default: dim 64, depth 4, 4 heads, MLP 128)
  --image-size N          train at this size (images are resized; a checkpoint's position embedding is resampled)
  --dropout P             dropout (default ${TRAIN_DEFAULTS.dropout})
  --drop-path P           stochastic depth of the last block (default ${TRAIN_DEFAULTS.dropPath})
optimization
  --epochs N              passes over the training set (default ${TRAIN_DEFAULTS.epochs})
  --steps N               stop after N optimizer steps in total (overrides --epochs)
  --batch-size N          images per forward pass (default ${TRAIN_DEFAULTS.batchSize})
  --grad-accum N          forward passes per optimizer step (default 1)
  --lr LR                 peak learning rate, AdamW (default ${TRAIN_DEFAULTS.lr})
  --min-lr LR             end of the cosine decay (default ${TRAIN_DEFAULTS.minLr})
  --schedule NAME         cosine | constant (default cosine)
  --warmup N|F            linear warmup: N steps, or a fraction of all steps if < 1 (default ${TRAIN_DEFAULTS.warmup})
  --weight-decay W        decoupled weight decay (default ${TRAIN_DEFAULTS.weightDecay})
  --weight-decay-on SET   matrices (not norms, biases, tokens, position embeddings) | all (default matrices)
  --label-smoothing S     (default ${TRAIN_DEFAULTS.labelSmoothing})
  --clip-grad N           global gradient-norm clipping, 0 for none (default ${TRAIN_DEFAULTS.clipGrad})
  --mixup A               mixup alpha, 0 for off (default 0)
  --cutmix A              cutmix alpha, 0 for off (default 0)
  --no-augment            no random crop / flip
  --crop-scale F          smallest area fraction the random resized crop keeps (default ${TRAIN_DEFAULTS.cropScale}; 1: no crop, flips only)
  --ema DECAY             also keep an exponential moving average of the weights (e.g. 0.999; default 0: none),
                          evaluated beside them and saved as model_ema.safetensors
  --no-shuffle            take batches in file order
  --seed N                seeds initialization, shuffling, augmentation, dropout (default ${TRAIN_DEFAULTS.seed})
run
  --out DIR               run directory (default runs/<timestamp>)
  --resume DIR            continue a run from its last checkpoint (--steps/--epochs may extend it)
  --checkpoint-every N    also checkpoint every N steps (always: each epoch end, the end, Ctrl-C)
  --log-every N           metrics.jsonl / log line every N steps (default ${TRAIN_DEFAULTS.logEvery}; step 1 always)
  --backend NAME          auto | wasm | cpu | tensorflow (default auto: tfjs-node if installed, else wasm)
  --workers N             data-parallel threads, each computing the gradient of 1/N of every batch
                          (default 1; 2 on a 2-core machine trains ~1.4x faster on wasm)
  --tta none|flip|flip-zoom
                          also report test accuracy with test-time augmentation: flip averages the
                          class probabilities of each image and its mirror image; flip-zoom adds a
                          centred crop of each (side sqrt(--crop-scale)) resized back (default none)
  --json                  print the result as JSON`;

/** Everything that defines a run, saved in the checkpoint so --resume can rebuild it. */
interface RunSettings {
  data: string;
  valSplit: number;
  numClasses: number | undefined;
  weights: string | undefined;
  config: string | undefined;
  imageSize: number | undefined;
  dropout: number;
  dropPath: number;
  trainer: Omit<TrainerOptions, 'augment'>;
  augment: boolean;
  /** Smallest area fraction of the random resized crop (1: no crop, flips only); absent in older checkpoints. */
  cropScale?: number;
  warmup: number;
}

/** Flags that define the run; with --resume they come from the checkpoint instead. */
const RUN_DEFINING = [
  'data', 'val-split', 'num-classes', 'weights', 'config', 'image-size', 'dropout', 'drop-path', 'batch-size', 'grad-accum', 'lr', 'min-lr',
  'schedule', 'warmup', 'weight-decay', 'weight-decay-on', 'label-smoothing', 'clip-grad', 'mixup', 'cutmix', 'no-augment', 'crop-scale', 'ema', 'no-shuffle', 'seed',
] as const;

/** The --workers a run directory was trained with (1 when unknown); read before any tensor exists. */
function savedWorkerCount(runDir: string): number {
  const dir = checkpointDirOf(runDir);
  if (!dir) return 1;
  try {
    const state = JSON.parse(readFileSync(join(dir, RUN_FILES.state), 'utf8')) as { extra?: { workers?: unknown } };
    const n = state.extra?.workers;
    return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : 1;
  } catch {
    return 1; // readRunCheckpoint reports what is wrong with the directory
  }
}

function timestamp(): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** --crop-scale: the smallest crop area fraction, in (0, 1]; 1 turns the crop off. */
function cropScaleFlag(flags: Flags): number {
  const scale = numberFlag(flags, 'crop-scale', { min: 0, max: 1 }) ?? TRAIN_DEFAULTS.cropScale;
  if (!(scale > 0)) throw new UsageError('--crop-scale must be > 0', 'it is the smallest area fraction a random crop keeps; 1 turns cropping off');
  if (booleanFlag(flags, 'no-augment') && flags['crop-scale'] !== undefined) throw new UsageError('--crop-scale has no effect with --no-augment', 'drop one of the two');
  return scale;
}

/** --ema: the decay of the weight average, in [0, 1); 0 keeps none. */
function emaFlag(flags: Flags): number {
  const decay = numberFlag(flags, 'ema', { min: 0 }) ?? 0;
  if (!(decay < 1)) throw new UsageError(`--ema must be below 1, got ${decay}`, 'it is the decay of the moving average (e.g. 0.999); 0 turns it off');
  return decay;
}

function settingsFromFlags(flags: Flags): RunSettings {
  const rate = (name: string, def: number): number => numberFlag(flags, name, { min: 0, max: 0.999 }) ?? def;
  const schedule = choiceFlag(flags, 'schedule', ['cosine', 'constant'] as const) ?? 'cosine';
  const steps = numberFlag(flags, 'steps', { integer: true, min: 1 });
  const lr = numberFlag(flags, 'lr', { min: 0 }) ?? TRAIN_DEFAULTS.lr;
  if (!(lr > 0)) throw new UsageError('--lr must be > 0');
  const data = stringFlag(flags, 'data') ?? DEFAULT_DATA;
  return {
    data: data === 'fashion-mnist' ? data : resolve(data),
    valSplit: numberFlag(flags, 'val-split', { min: 0, max: 0.9 }) ?? TRAIN_DEFAULTS.valSplit,
    numClasses: numberFlag(flags, 'num-classes', { integer: true, min: 1 }),
    weights: stringFlag(flags, 'weights'),
    config: stringFlag(flags, 'config'),
    imageSize: numberFlag(flags, 'image-size', { integer: true, min: 1 }),
    dropout: rate('dropout', TRAIN_DEFAULTS.dropout),
    dropPath: rate('drop-path', TRAIN_DEFAULTS.dropPath),
    augment: !booleanFlag(flags, 'no-augment'),
    cropScale: cropScaleFlag(flags),
    warmup: numberFlag(flags, 'warmup', { min: 0 }) ?? TRAIN_DEFAULTS.warmup,
    trainer: {
      batchSize: numberFlag(flags, 'batch-size', { integer: true, min: 1 }) ?? TRAIN_DEFAULTS.batchSize,
      gradAccum: numberFlag(flags, 'grad-accum', { integer: true, min: 1 }) ?? 1,
      epochs: numberFlag(flags, 'epochs', { integer: true, min: 1 }) ?? TRAIN_DEFAULTS.epochs,
      ...(steps !== undefined ? { steps } : {}),
      lr,
      minLr: Math.min(lr, numberFlag(flags, 'min-lr', { min: 0 }) ?? TRAIN_DEFAULTS.minLr),
      schedule,
      weightDecay: numberFlag(flags, 'weight-decay', { min: 0 }) ?? TRAIN_DEFAULTS.weightDecay,
      weightDecayOn: choiceFlag(flags, 'weight-decay-on', ['matrices', 'all'] as const) ?? 'matrices',
      labelSmoothing: rate('label-smoothing', TRAIN_DEFAULTS.labelSmoothing),
      clipGrad: numberFlag(flags, 'clip-grad', { min: 0 }) ?? TRAIN_DEFAULTS.clipGrad,
      mixup: numberFlag(flags, 'mixup', { min: 0 }) ?? 0,
      cutmix: numberFlag(flags, 'cutmix', { min: 0 }) ?? 0,
      shuffle: !booleanFlag(flags, 'no-shuffle'),
      seed: numberFlag(flags, 'seed', { integer: true, min: 0 }) ?? TRAIN_DEFAULTS.seed,
      emaDecay: emaFlag(flags),
    },
  };
}

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

export const trainCommand: Command = {
  name: 'train',
  summary: 'train or fine-tune a ViT (default: a small ViT on the bundled Fashion-MNIST subset)',
  usage: USAGE,
  options: {
    data: { type: 'string' },
    'val-split': { type: 'string' },
    'num-classes': { type: 'string' },
    weights: { type: 'string' },
    config: { type: 'string' },
    'image-size': { type: 'string' },
    dropout: { type: 'string' },
    'drop-path': { type: 'string' },
    epochs: { type: 'string' },
    steps: { type: 'string' },
    'batch-size': { type: 'string' },
    'grad-accum': { type: 'string' },
    lr: { type: 'string' },
    'min-lr': { type: 'string' },
    schedule: { type: 'string' },
    warmup: { type: 'string' },
    'weight-decay': { type: 'string' },
    'weight-decay-on': { type: 'string' },
    'label-smoothing': { type: 'string' },
    'clip-grad': { type: 'string' },
    mixup: { type: 'string' },
    cutmix: { type: 'string' },
    'no-augment': { type: 'boolean' },
    'crop-scale': { type: 'string' },
    ema: { type: 'string' },
    tta: { type: 'string' },
    'no-shuffle': { type: 'boolean' },
    seed: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    'log-every': { type: 'string' },
    backend: { type: 'string' },
    workers: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(flags: Flags): Promise<number> {
    const json = booleanFlag(flags, 'json');
    const tta = choiceFlag(flags, 'tta', TEST_TIME_AUGMENTATIONS) ?? 'none';
    const log = (text: string): void => {
      if (!json) console.log(text);
    };
    const resumeDir = stringFlag(flags, 'resume');
    const backendChoice: BackendChoice = choiceFlag(flags, 'backend', BACKENDS) ?? 'auto';
    const logEveryFlag = numberFlag(flags, 'log-every', { integer: true, min: 1 });
    const checkpointEveryFlag = numberFlag(flags, 'checkpoint-every', { integer: true, min: 1 });
    let logEvery = logEveryFlag ?? TRAIN_DEFAULTS.logEvery;
    let checkpointEvery = checkpointEveryFlag ?? 0;

    let settings: RunSettings;
    let checkpoint: RunCheckpoint | undefined;
    let outDir: string;
    if (resumeDir) {
      const given = RUN_DEFINING.filter((f) => flags[f] !== undefined);
      if (given.length) throw new UsageError(`--${given[0]} cannot be changed when resuming`, 'a resumed run keeps its settings; only --steps, --epochs, --backend, --workers, --log-every and --checkpoint-every may be given');
      if (stringFlag(flags, 'out') !== undefined && resolve(stringFlag(flags, 'out')!) !== resolve(resumeDir)) {
        throw new UsageError('--out and --resume name different directories', 'a resumed run continues in its own directory');
      }
      // Read before choosing a backend only to validate the directory; tensors are made after setupBackend.
      outDir = resolve(resumeDir);
      if (!existsSync(outDir)) throw new UsageError(`--resume ${resumeDir}: no such directory`);
    } else {
      outDir = resolve(stringFlag(flags, 'out') ?? join('runs', timestamp()));
    }

    // A resumed run keeps its worker count unless told otherwise (another count changes dropout draws and rounding).
    const workers = numberFlag(flags, 'workers', { integer: true, min: 1, max: 64 }) ?? (resumeDir ? savedWorkerCount(outDir) : 1);
    // Each data-parallel thread gets one core: the wasm backend's own threads would only compete.
    const backend = await setupBackend(backendChoice, workers > 1 ? { wasmThreads: 1 } : {});
    await registerGradients();
    if (resumeDir) {
      checkpoint = readRunCheckpoint(outDir);
      const saved = checkpoint.stateFile.extra.settings as RunSettings | undefined;
      if (!saved) throw new UsageError(`${outDir} was not written by vit train`, 'resume runs started with vit train');
      const steps = numberFlag(flags, 'steps', { integer: true, min: 1 });
      const epochs = numberFlag(flags, 'epochs', { integer: true, min: 1 });
      settings = { ...saved, trainer: { ...saved.trainer, ...(epochs !== undefined ? { epochs } : {}), ...(steps !== undefined ? { steps } : {}) } };
      // Logging and checkpoint cadence carry over unless given again.
      const cadence = checkpoint.stateFile.extra.cadence as { logEvery?: number; checkpointEvery?: number } | undefined;
      logEvery = logEveryFlag ?? cadence?.logEvery ?? logEvery;
      checkpointEvery = checkpointEveryFlag ?? cadence?.checkpointEvery ?? checkpointEvery;
    } else {
      settings = settingsFromFlags(flags);
    }

    // The model comes from the checkpoint being resumed, from --weights, or is built to fit the data.
    const configInput = readConfigSpec(settings.config);
    const dataImageSize = settings.imageSize ?? (configInput?.imageSize !== undefined ? configInput.imageSize : undefined);
    let dataset: LoadedDataset;
    try {
      dataset = await loadDataset(settings.data, {
        ...(settings.numClasses !== undefined ? { numClasses: settings.numClasses } : {}),
        ...(dataImageSize !== undefined ? { imageSize: typeof dataImageSize === 'number' ? [dataImageSize, dataImageSize] : dataImageSize } : {}),
        fashionMnist: { onProgress: (m) => log(m) },
      });
    } catch (e) {
      if (checkpoint) disposeRunCheckpoint(checkpoint);
      throw e;
    }
    const [, h, w, c] = dataset.train.shape;
    const seed = settings.trainer.seed ?? 0;
    const overrides: ViTConfigInput = {
      dropout: settings.dropout,
      dropPath: settings.dropPath,
      ...(settings.imageSize !== undefined ? { imageSize: settings.imageSize } : {}),
    };
    // A resumed run rebuilds the architecture from its checkpoint's config.json (weights are restored below).
    const resumedConfig = checkpoint ? configInputFromJson(checkpoint.config) : undefined;
    const setup = await buildModel({
      ...(checkpoint ? {} : settings.weights ? { weights: settings.weights } : {}),
      ...(resumedConfig ? { config: resumedConfig } : configInput ? { config: configInput } : {}),
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
    const model = setup.model;
    const split = trainValSplit(dataset.train, settings.valSplit, seed);
    const perStep = (settings.trainer.batchSize ?? 1) * (settings.trainer.gradAccum ?? 1);
    const totalSteps = settings.trainer.steps ?? (settings.trainer.epochs ?? 1) * Math.max(1, Math.floor(split.train.shape[0] / perStep));
    let pool: GradientWorkerPool | undefined;
    let trainer: Trainer;
    try {
      if (workers > 1) pool = await GradientWorkerPool.start({ count: workers - 1, config: model.config, backend: backend.name });
      trainer = new Trainer(model, split.train, {
        ...settings.trainer,
        ...(pool ? { workers: pool } : {}),
        warmup: Math.min(warmupSteps(settings.warmup, totalSteps), totalSteps),
        ...(settings.augment && split.train.images instanceof Uint8Array ? { augment: defaultAugmentation({ scale: [settings.cropScale ?? TRAIN_DEFAULTS.cropScale, 1] }) } : {}),
      });
      if (checkpoint) restoreTrainer(trainer, checkpoint);
    } catch (e) {
      await pool?.close();
      model.dispose();
      throw e;
    } finally {
      if (checkpoint) disposeRunCheckpoint(checkpoint);
    }

    const cfg = model.config;
    log(
      `${resumeDir ? 'resuming' : 'training'} ViT (dim ${cfg.embedDim}, depth ${cfg.depth}, heads ${cfg.numHeads}, patch ${cfg.patchSize}, ` +
        `${cfg.imageSize[0]}x${cfg.imageSize[1]}x${cfg.inChannels}, ${cfg.numClasses} classes, ${(model.numParameters() / 1e6).toFixed(2)}M params; ${setup.source}${setup.headReplaced ? ', new head' : ''}) ` +
        `on ${dataset.source}: ${split.train.shape[0]} train / ${split.val?.shape[0] ?? 0} val / ${dataset.test?.shape[0] ?? 0} test images`,
    );
    log(`backend ${backend.name}${workers > 1 ? ` x ${workers} threads (data-parallel)` : ''}; ${trainer.totalSteps} steps (${trainer.stepsPerEpoch} per epoch, batch ${perStep})${trainer.step ? `, from step ${trainer.step}` : ''}; run directory ${outDir}`);

    const controller = new AbortController();
    let interrupts = 0;
    const onSigint = (): void => {
      interrupts += 1;
      if (interrupts > 1) process.exit(130);
      if (!json) process.stderr.write('\ninterrupted: saving a checkpoint (Ctrl-C again to quit without saving)\n');
      controller.abort();
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    const bar = new ProgressBar(process.stdout, { tty: !json && process.stdout.isTTY === true });
    const totalEpochs = Math.ceil(trainer.totalSteps / trainer.stepsPerEpoch);
    try {
      const result = await runTraining(trainer, {
        outDir,
        ...(split.val ? { validation: split.val } : {}),
        ...(dataset.test ? { test: dataset.test } : {}),
        logEvery,
        checkpointEvery,
        signal: controller.signal,
        resumed: checkpoint !== undefined,
        testTta: tta,
        // flip-zoom enlarges as much as the smallest training crop did.
        ...(settings.augment ? { testTtaZoom: Math.sqrt(settings.cropScale ?? TRAIN_DEFAULTS.cropScale) } : {}),
        extra: { settings, cadence: { logEvery, checkpointEvery }, workers },
        title: `ViT on ${dataset.train.name.replace(/ train$/, '')}`,
        onStep: (r, p) => {
          if (!json) bar.step(r, p, { epoch: r.epoch + 1, total: totalEpochs });
        },
        onEpoch: (e) => {
          if (json) return;
          const ema = e.ema_accuracy !== undefined ? `, EMA weights ${(e.ema_accuracy * 100).toFixed(2)}%` : '';
          bar.line(`epoch ${e.epoch}/${totalEpochs}: val accuracy ${(e.accuracy * 100).toFixed(2)}%${ema} (val loss ${e.val_loss.toFixed(4)}, train loss ${e.train_loss.toFixed(4)}) at ${formatDuration(e.time_s ?? 0)}`);
        },
        onCheckpoint: (step) => {
          if (!json && (checkpointEvery > 0 || controller.signal.aborted)) bar.line(`checkpoint saved at step ${step}`);
        },
        onEvaluate: (phase) => {
          if (phase === 'start') bar.clear();
        },
      });
      bar.clear();
      if (json) {
        console.log(
          JSON.stringify({
            status: result.status,
            step: result.step,
            out: outDir,
            backend: backend.name,
            ...(result.test ? { test_accuracy: result.test.accuracy, test_loss: result.test.loss } : {}),
            ...(result.lastValidation ? { val_accuracy: result.lastValidation.accuracy } : {}),
            ...(result.emaTest ? { ema_test_accuracy: result.emaTest.accuracy, ema_test_loss: result.emaTest.loss } : {}),
            ...(result.lastEmaValidation ? { ema_val_accuracy: result.lastEmaValidation.accuracy } : {}),
            ...(result.testTta ? { tta, tta_test_accuracy: result.testTta.accuracy, tta_test_loss: result.testTta.loss } : {}),
            ...(result.emaTestTta ? { ema_tta_test_accuracy: result.emaTestTta.accuracy, ema_tta_test_loss: result.emaTestTta.loss } : {}),
            seconds: Number(result.elapsedSeconds.toFixed(1)),
          }),
        );
      } else if (result.status === 'interrupted') {
        log(`stopped at step ${result.step}; resume with: vit train --resume ${outDir}`);
      } else {
        if (result.test) log(`test accuracy: ${(result.test.accuracy * 100).toFixed(2)}% (${result.test.count} images, loss ${result.test.loss.toFixed(4)})`);
        else if (result.lastValidation) log(`val accuracy: ${(result.lastValidation.accuracy * 100).toFixed(2)}% (${result.lastValidation.count} images)`);
        if (result.emaTest) log(`test accuracy of the EMA weights: ${(result.emaTest.accuracy * 100).toFixed(2)}% (loss ${result.emaTest.loss.toFixed(4)}; ${join(outDir, RUN_FILES.modelEma)})`);
        else if (result.lastEmaValidation) log(`val accuracy of the EMA weights: ${(result.lastEmaValidation.accuracy * 100).toFixed(2)}%`);
        if (result.testTta) log(`test accuracy with ${tta} test-time augmentation: ${(result.testTta.accuracy * 100).toFixed(2)}% (loss ${result.testTta.loss.toFixed(4)})`);
        if (result.emaTestTta) log(`test accuracy of the EMA weights with ${tta} test-time augmentation: ${(result.emaTestTta.accuracy * 100).toFixed(2)}% (loss ${result.emaTestTta.loss.toFixed(4)})`);
        log(`done in ${formatDuration(result.elapsedSeconds)}: ${outDir}`);
      }
      return result.status === 'interrupted' ? 130 : 0;
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
      await pool?.close();
      trainer.dispose();
      model.dispose();
    }
  },
};

// The flags of `vit train`, as one table: parser, default, usage text, and
// whether the flag defines the run (kept by --resume) or may be set by a
// recipe. The usage text, the parseArgs options, the defaults, the resume
// check and the recipe keys all come from it.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_CLASSES, MAX_IMAGE_SIDE, type ViTConfigInput } from '@vitkit/core';
import { DEFAULT_CROP_SCALE, parseFreeze, TEST_TIME_AUGMENTATIONS, TrainingConfigError, type FreezeMode, type TrainerOptions } from '@vitkit/training';
import type { Flags } from '../command.js';
import { UsageError } from '../errors.js';
import { checked, defaultsOf, flagName, givenValues, number, oneOf, text, toggle, type FlagSpec, type FlagValues } from '../flag_table.js';
import { DEFAULT_ARCHITECTURE } from './model_setup.js';
import { readRecipe, recipePath, RecipeError, type Recipe } from './recipe.js';

/** The Fashion-MNIST subset that ships with the repository (data/fashion-mnist-subset). */
/** --workers: a thread count, or auto (see autoWorkerCount). */
export type WorkerCount = number | 'auto';

export const DEFAULT_DATA = resolve(fileURLToPath(new URL('../../../../data/fashion-mnist-subset', import.meta.url)));

/** What a table entry of `vit train` adds to a plain flag. */
interface TrainFlag<T> extends FlagSpec<T> {
  /** Defines the run: saved with it, and refused beside --resume. */
  run?: true;
  /** Only on the command line, never in a recipe's "train" section. */
  cliOnly?: true;
}

const rate = number({ min: 0, max: 0.999 });
const count = number({ integer: true, min: 1 });
const a = DEFAULT_ARCHITECTURE;

export const TRAIN_FLAGS = {
  recipe: {
    group: 'recipe', arg: 'NAME|FILE', parse: text, run: true, cliOnly: true,
    help: 'a whole run\'s settings: a recipe name from packages/training/recipes\n(fashion-mnist-91: the 91% run) or a .json file; flags given here override it',
  },
  data: {
    group: 'data', arg: 'SPEC', parse: text, run: true, default: DEFAULT_DATA, shownDefault: 'the Fashion-MNIST subset in data/fashion-mnist-subset',
    help: 'fashion-mnist | a directory: MNIST-style IDX (.gz ok), CIFAR-10 binary,\ninput_nhwc.npy + labels.npy, or ImageFolder (class subfolders of images)\n',
  },
  valSplit: { group: 'data', arg: 'F', parse: number({ min: 0, max: 0.9 }), run: true, default: 0.05, help: 'fraction of the training set held out for per-epoch accuracy' },
  numClasses: {
    group: 'data', arg: 'N', run: true,
    parse: checked(count, (v, label) => {
      if (v > MAX_CLASSES) throw new UsageError(`${label} ${v} is above the limit of ${MAX_CLASSES} classes`, 'the classifier [width, classes] must fit one float32 tensor (2 GiB); use fewer classes');
    }),
    shownDefault: 'from the data', help: 'classifier outputs; with --weights, a fresh head if different' },
  weights: { group: 'model', arg: 'SRC', parse: text, run: true, help: 'start from a checkpoint (safetensors/npz, timm/HF/torchvision/JAX names, hf://...)' },
  config: {
    group: 'model', arg: 'FILE|PRESET', parse: text, run: true, cliOnly: true,
    shownDefault: `dim ${a.embedDim}, depth ${a.depth}, ${a.numHeads} heads, MLP ${a.mlpDim}`, help: 'architecture: config.json or a preset; replaces a recipe\'s "model"',
  },
  imageSize: {
    group: 'model', arg: 'N', run: true,
    parse: checked(count, (v, label) => {
      if (v > MAX_IMAGE_SIDE) throw new UsageError(`${label} ${v} is above the limit of ${MAX_IMAGE_SIDE} pixels`, 'an image [side, side, 3] must fit one float32 tensor (2 GiB); use a smaller size');
    }),
    help: "train at this size (images are resized; a checkpoint's position embedding is resampled)" },
  dropout: { group: 'model', arg: 'P', parse: rate, run: true, default: 0, help: 'dropout' },
  dropPath: { group: 'model', arg: 'P', parse: rate, run: true, default: 0, help: 'stochastic depth of the last block' },
  freeze: {
    group: 'fine-tuning', arg: 'none|backbone|blocks:K', run: true, default: 'none' as FreezeMode,
    help: 'backbone: linear probe (only the classifier trains); blocks:K: the last K blocks,\nfinal norm and head train. Frozen parts get no backward pass',
    parse: (raw: unknown, label: string): FreezeMode => {
      try {
        return parseFreeze(text(raw, label));
      } catch (e) {
        if (e instanceof TrainingConfigError) throw new UsageError(`${label}: ${e.reason}`, e.hint);
        throw e;
      }
    },
  },
  layerDecay: {
    group: 'fine-tuning', arg: 'F', run: true, default: 1, shownDefault: 'off',
    help: "timm's layer-wise lr decay: lr x F^(layers above), e.g. 0.75",
    parse: checked(number({ min: 0, max: 1 }), (v, label) => {
      if (!(v > 0)) throw new UsageError(`${label} must be in (0, 1]`, 'timm recipes use 0.65 to 0.85');
    }),
  },
  headWarmup: { group: 'fine-tuning', arg: 'N', parse: number({ integer: true, min: 0 }), run: true, default: 0, help: 'optimizer steps that train only the head before the --freeze mode' },
  cacheEmbeddings: {
    group: 'fine-tuning', parse: toggle, run: true,
    help: 'with --freeze backbone --no-augment: embed the data once, train the probe on the\nvectors (the same steps, in seconds)',
  },
  epochs: { group: 'optimization', arg: 'N', parse: count, default: 8, help: 'passes over the training set' },
  steps: { group: 'optimization', arg: 'N', parse: count, help: 'stop after N optimizer steps in total (overrides --epochs)' },
  batchSize: { group: 'optimization', arg: 'N', parse: count, run: true, default: 128, help: 'images per forward pass' },
  gradAccum: { group: 'optimization', arg: 'N', parse: count, run: true, default: 1, help: 'forward passes per optimizer step' },
  lr: {
    group: 'optimization', arg: 'LR', run: true, default: 2e-3, help: 'peak learning rate, AdamW',
    parse: checked(number({ min: 0 }), (v, label) => {
      if (!(v > 0)) throw new UsageError(`${label} must be > 0`);
    }),
  },
  minLr: { group: 'optimization', arg: 'LR', parse: number({ min: 0 }), run: true, default: 1e-5, help: 'end of the cosine decay' },
  schedule: { group: 'optimization', arg: 'NAME', parse: oneOf(['cosine', 'constant'] as const), run: true, default: 'cosine', help: 'cosine | constant' },
  warmup: { group: 'optimization', arg: 'N|F', parse: number({ min: 0 }), run: true, default: 0.05, help: 'linear warmup: N steps, or a fraction of all steps if < 1' },
  weightDecay: { group: 'optimization', arg: 'W', parse: number({ min: 0 }), run: true, default: 0.05, help: 'decoupled weight decay' },
  weightDecayOn: {
    group: 'optimization', arg: 'SET', parse: oneOf(['matrices', 'all'] as const), run: true, default: 'matrices',
    help: 'matrices (not norms, biases, tokens, position embeddings) | all',
  },
  labelSmoothing: { group: 'optimization', arg: 'S', parse: rate, run: true, default: 0.1, help: 'label smoothing of the cross-entropy targets' },
  clipGrad: { group: 'optimization', arg: 'N', parse: number({ min: 0 }), run: true, default: 1, help: 'global gradient-norm clipping, 0 for none' },
  mixup: { group: 'optimization', arg: 'A', parse: number({ min: 0 }), run: true, default: 0, help: 'mixup alpha, 0 for off' },
  cutmix: { group: 'optimization', arg: 'A', parse: number({ min: 0 }), run: true, default: 0, help: 'cutmix alpha, 0 for off' },
  noAugment: { group: 'optimization', parse: toggle, run: true, help: 'no random crop / flip' },
  cropScale: {
    group: 'optimization', arg: 'F', run: true, default: DEFAULT_CROP_SCALE, help: 'smallest area fraction the random resized crop keeps; 1: no crop, flips only',
    parse: checked(number({ min: 0, max: 1 }), (v, label) => {
      if (!(v > 0)) throw new UsageError(`${label} must be > 0`, 'it is the smallest area fraction a random crop keeps; 1 turns cropping off');
    }),
  },
  ema: {
    group: 'optimization', arg: 'DECAY', run: true, default: 0,
    help: 'also keep an exponential moving average of the weights (e.g. 0.999; 0: none),\nevaluated beside them and saved as model_ema.safetensors',
    parse: checked(number({ min: 0 }), (v, label) => {
      if (!(v < 1)) throw new UsageError(`${label} must be below 1, got ${v}`, 'it is the decay of the moving average (e.g. 0.999); 0 turns it off');
    }),
  },
  noShuffle: { group: 'optimization', parse: toggle, run: true, help: 'take batches in file order' },
  seed: { group: 'optimization', arg: 'N', parse: number({ integer: true, min: 0 }), run: true, default: 0, help: 'seeds initialization, shuffling, augmentation, dropout' },
  out: { group: 'run', arg: 'DIR', parse: text, cliOnly: true, shownDefault: 'runs/<timestamp>', help: 'run directory' },
  resume: { group: 'run', arg: 'DIR', parse: text, cliOnly: true, help: 'continue a run from its last checkpoint (--steps/--epochs may extend it)' },
  overwrite: { group: 'run', parse: toggle, cliOnly: true, help: 'start over in an --out directory that holds a run (deletes its metrics,\ncheckpoint and model); without it such a directory is refused' },
  checkpointEvery: {
    group: 'run', arg: 'N', parse: count, default: 0, shownDefault: 'none',
    help: 'also checkpoint every N steps (always: each epoch end, the end, Ctrl-C)',
  },
  logEvery: { group: 'run', arg: 'N', parse: count, default: 10, help: 'metrics.jsonl / log line every N steps; step 1 always' },
  backend: {
    group: 'run', arg: 'NAME', parse: oneOf(['auto', 'cpu', 'wasm', 'tensorflow'] as const), default: 'auto',
    help: 'auto | wasm | cpu | tensorflow; auto: tfjs-node if installed, else wasm',
  },
  workers: {
    group: 'run', arg: 'N|auto', default: 'auto' as WorkerCount,
    help: 'data-parallel threads, each computing the gradient of 1/N of every batch;\nauto: one per core (up to 4) on the wasm backend when the whole model\ntrains, else 1 (2 on a 2-core machine train the recipe model ~1.4x faster;\na resumed run keeps its count)',
    parse: (raw: unknown, label: string): WorkerCount => (raw === 'auto' ? 'auto' : number({ integer: true, min: 1, max: 64 })(raw, label)),
  },
  tta: {
    group: 'run', arg: 'none|flip|flip-zoom', parse: oneOf(TEST_TIME_AUGMENTATIONS), default: 'none',
    help: 'also report test accuracy with test-time augmentation: flip averages the\nclass probabilities of each image and its mirror image; flip-zoom adds a\ncentred crop of each (side sqrt(--crop-scale)) resized back',
  },
  json: { group: 'run', parse: toggle, cliOnly: true, help: 'print the result as JSON' },
} satisfies Record<string, TrainFlag<any>>;

export type TrainFlags = typeof TRAIN_FLAGS;
export type TrainValues = FlagValues<TrainFlags>;
export type TrainKey = keyof TrainFlags & string;

/** The default recipe: every training flag's value when not given. */
export const TRAIN_DEFAULTS = defaultsOf(TRAIN_FLAGS);

const keys = Object.keys(TRAIN_FLAGS) as TrainKey[];
const spec = (key: TrainKey): TrainFlag<unknown> => TRAIN_FLAGS[key] as TrainFlag<unknown>;
/** Flags that define the run; with --resume they come from the checkpoint instead. */
export const RUN_DEFINING: readonly TrainKey[] = keys.filter((k) => spec(k).run);
/** The keys a recipe's "train" section may hold. */
export const RECIPE_KEYS: readonly TrainKey[] = keys.filter((k) => !spec(k).cliOnly);

/** Everything that defines a run, saved in the checkpoint so --resume can rebuild it. */
export interface RunSettings {
  data: string;
  valSplit: number;
  numClasses: number | undefined;
  weights: string | undefined;
  config: string | undefined;
  /** A recipe's inline architecture (when --config does not replace it). */
  model?: ViTConfigInput;
  /** The recipe the run was started with (its values are in these settings). */
  recipe?: string;
  imageSize: number | undefined;
  dropout: number;
  dropPath: number;
  trainer: Omit<TrainerOptions, 'augment' | 'embeddings' | 'workers'>;
  augment: boolean;
  /** Train a linear probe on cached embeddings (absent in older checkpoints: false). */
  cacheEmbeddings?: boolean;
  /** Smallest area fraction of the random resized crop (1: no crop, flips only); absent in older checkpoints. */
  cropScale?: number;
  warmup: number;
  /** Fine-tuning: the checkpoint's preprocessing JSON the inputs were made with (a resumed run keeps it). */
  preprocessing?: Record<string, unknown>;
}

/** The parsed command line: values (defaults < recipe < flags), the flags actually given, and the recipe. */
export interface TrainOptions {
  values: TrainValues;
  given: Partial<TrainValues>;
  recipe: Recipe | undefined;
}

/** Parses the flags of `vit train`, reads --recipe, and checks combinations. */
export function readTrainOptions(flags: Flags): TrainOptions {
  if (flags['resume'] !== undefined) {
    const fixed = RUN_DEFINING.find((k) => flags[flagName(k)] !== undefined);
    if (flags['overwrite'] !== undefined) throw new UsageError('--overwrite and --resume contradict each other', '--resume continues the run, --overwrite starts it over: give one');
    const free = keys.filter((k) => !spec(k).run && !['resume', 'out', 'json', 'overwrite'].includes(k)).map((k) => `--${flagName(k)}`);
    if (fixed) throw new UsageError(`--${flagName(fixed)} cannot be changed when resuming`, `a resumed run keeps its settings; only ${free.slice(0, -1).join(', ')} and ${free.at(-1)} may be given`);
  }
  const given = givenValues(TRAIN_FLAGS, flags);
  const recipe = given.recipe === undefined ? undefined : readRecipe(given.recipe);
  const fromRecipe = recipe ? recipeValues(recipe) : {};
  const values = { ...TRAIN_DEFAULTS, ...fromRecipe, ...given } as TrainValues;
  // --crop-scale beside --no-augment is a mistake, unless the crop comes from a recipe the flag overrides.
  if (values.noAugment && (given.cropScale !== undefined || (fromRecipe.cropScale !== undefined && given.noAugment === undefined))) {
    const where = given.cropScale !== undefined ? '--crop-scale' : `cropScale in ${recipe!.name}`;
    throw new UsageError(`${where} has no effect with ${given.noAugment ? '--no-augment' : `noAugment in ${recipe!.name}`}`, 'drop one of the two');
  }
  if (values.cacheEmbeddings && (values.freeze !== 'backbone' || !values.noAugment || values.mixup > 0 || values.cutmix > 0)) {
    throw new UsageError('--cache-embeddings trains a linear probe on fixed images', 'use it with --freeze backbone --no-augment (and no --mixup/--cutmix)');
  }
  return { values, given, recipe };
}

/** A recipe's "train" values, checked like flags (relative paths resolved against the recipe's folder). */
function recipeValues(recipe: Recipe): Partial<TrainValues> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(recipe.train)) {
    if (!(RECIPE_KEYS as readonly string[]).includes(key)) {
      const hint = key === 'config' ? 'the architecture goes in the recipe\'s "model"' : `"train" takes flag names in camelCase: ${RECIPE_KEYS.join(', ')}`;
      throw new RecipeError(`recipe ${recipe.name}: unknown key "train.${key}"`, hint);
    }
    try {
      out[key] = spec(key as TrainKey).parse(raw, `recipe ${recipe.name}: train.${key}`);
    } catch (e) {
      if (e instanceof UsageError) throw new RecipeError(e.reason, e.hint === new UsageError('').hint ? undefined : e.hint);
      throw e;
    }
  }
  if (typeof out['data'] === 'string' && out['data'] !== 'fashion-mnist') out['data'] = recipePath(recipe, out['data']);
  if (typeof out['weights'] === 'string' && !out['weights'].includes('://')) out['weights'] = recipePath(recipe, out['weights']);
  if (recipe.config !== undefined) out['config'] = recipe.config;
  return out as Partial<TrainValues>;
}

/** The settings a new run saves, from its options. */
export function settingsOf({ values: v, given, recipe }: TrainOptions): RunSettings {
  const inlineModel = given.config === undefined ? recipe?.model : undefined;
  return {
    data: v.data === 'fashion-mnist' ? v.data : resolve(v.data),
    valSplit: v.valSplit,
    numClasses: v.numClasses,
    weights: v.weights,
    config: v.config,
    ...(inlineModel ? { model: inlineModel } : {}),
    ...(recipe ? { recipe: recipe.path } : {}),
    imageSize: v.imageSize,
    dropout: v.dropout,
    dropPath: v.dropPath,
    augment: !v.noAugment,
    ...(v.cacheEmbeddings ? { cacheEmbeddings: true } : {}),
    cropScale: v.cropScale,
    warmup: v.warmup,
    trainer: {
      batchSize: v.batchSize,
      gradAccum: v.gradAccum,
      epochs: v.epochs,
      ...(v.steps !== undefined ? { steps: v.steps } : {}),
      lr: v.lr,
      minLr: Math.min(v.lr, v.minLr),
      schedule: v.schedule,
      weightDecay: v.weightDecay,
      weightDecayOn: v.weightDecayOn,
      labelSmoothing: v.labelSmoothing,
      clipGrad: v.clipGrad,
      mixup: v.mixup,
      cutmix: v.cutmix,
      shuffle: !v.noShuffle,
      seed: v.seed,
      emaDecay: v.ema,
      ...(v.freeze !== 'none' ? { freeze: v.freeze } : {}),
      ...(v.layerDecay !== 1 ? { layerDecay: v.layerDecay } : {}),
      ...(v.headWarmup > 0 ? { headWarmup: v.headWarmup } : {}),
    },
  };
}

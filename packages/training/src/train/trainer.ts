import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@vitkit/core';
import { mixupCutmix } from '@vitkit/preprocessing';
import type { Augmentation } from '../data/augmentation.js';
import type { ImageDataset } from '../data/dataset.js';
import { gatherPixels, pixelsToTensor } from '../data/batch.js';
import { epochOrder, epochSeed } from '../data/order.js';
import { DivergenceError, TrainingConfigError } from '../errors.js';
import { AdamW, type AdamWState } from '../optim/adamw.js';
import { clipByGlobalNorm, clipByGlobalNormAsync, globalNorm } from '../optim/clip.js';
import { validateEmaDecay, WeightEma } from '../optim/ema.js';
import { optimizedParameters, type WeightDecayOn } from '../optim/decay.js';
import { learningRateAt, validateSchedule, type ScheduleKind } from '../optim/schedule.js';
import { lossAndGradients, type LossAndGradients, type MicroBatch } from './loss_and_gradients.js';
import { combineShardGradients } from '../parallel/combine.js';
import { modelWeights, shardBatchOf, shardSizes, type ShardResult, type ShardWorkers } from '../parallel/shard.js';
import type { TrainableModel } from './model.js';
import { embeddingRows, type EmbeddingCache } from '../finetune/embeddings.js';
import { formatFreeze, type FreezeMode } from '../finetune/freeze.js';
import { splitModel, type ModelSplit } from '../finetune/model_split.js';
import { layerDecayScales } from '../optim/layer_decay.js';

export interface TrainerOptions {
  /** Samples per forward pass. */
  batchSize: number;
  /** Micro-batches per optimizer step (gradient accumulation, default 1): the effective batch is batchSize * gradAccum. */
  gradAccum?: number;
  /** Passes over the training set (default 1); ignored for stopping when `steps` is given. */
  epochs?: number;
  /** Stop after this many optimizer steps in total. */
  steps?: number;
  /** Peak learning rate (default 1e-3). */
  lr?: number;
  /** Floor of the cosine schedule (default 0). */
  minLr?: number;
  schedule?: ScheduleKind;
  /** Linear warmup steps (default 0). */
  warmup?: number;
  /** Decoupled weight decay (default 0.05). */
  weightDecay?: number;
  weightDecayOn?: WeightDecayOn;
  beta1?: number;
  beta2?: number;
  eps?: number;
  labelSmoothing?: number;
  /** Global-norm gradient clipping threshold (0 or undefined: no clipping). */
  clipGrad?: number;
  /** Shuffle the training set each epoch with a seeded permutation (default true). */
  shuffle?: boolean;
  /** Per-image augmentation of uint8 training images (see defaultAugmentation). */
  augment?: Augmentation;
  /** Mixup alpha (0: off). With cutmix too, each batch gets one of them at random. */
  mixup?: number;
  /** CutMix alpha (0: off). */
  cutmix?: number;
  /** Seeds shuffling, augmentation, mixup and dropout (default 0). */
  seed?: number;
  /**
   * Decay of an exponential moving average of the weights, updated after
   * every optimizer step (see WeightEma; timm's `--model-ema-decay`). 0 or
   * absent: no average.
   */
  emaDecay?: number;
  /**
   * Gradient workers for data-parallel steps (see GradientWorkerPool): with
   * N workers each batch is shared N+1 ways; use trainStepAsync. The caller
   * owns them (and closes them).
   */
  workers?: ShardWorkers;
  /**
   * What stays fixed (see FreezeMode): `'backbone'` is a linear probe,
   * `{ blocks: K }` trains the last K blocks, final norm and head. Frozen parts
   * are not differentiated. Default `'none'`.
   */
  freeze?: FreezeMode;
  /**
   * Layer-wise learning-rate decay (timm `--layer-decay`): each parameter's
   * learning rate is scaled by `layerDecay ** (maxLayer - layer)` (see
   * layerDecayScales). Default 1 (off).
   */
  layerDecay?: number;
  /**
   * Train only the classifier for the first N optimizer steps, then switch
   * to the `freeze` mode with a fresh AdamW (as LP-FT does); the schedule
   * runs over the whole run. Default 0.
   */
  headWarmup?: number;
  /**
   * A linear probe on cached embeddings (embedDataset of the same model and
   * data): the steps read feature rows instead of images. Needs freeze
   * `'backbone'` and no augmentation, mixup, cutmix, warm-up or workers.
   */
  embeddings?: EmbeddingCache;
}

/** Where a run stands, enough to continue it exactly. */
export interface TrainerState {
  /** Optimizer steps done. */
  step: number;
  /** The epoch being consumed (0-based). */
  epoch: number;
  /** Optimizer steps already taken from this epoch's order. */
  batchInEpoch: number;
  /** State of the Rng that drives augmentation and mixup. */
  dataRng: number;
  /** State of the Rng that drives dropout and stochastic depth. */
  modelRng: number;
  /** Sum of the losses of this epoch's steps so far (absent in older checkpoints: 0). */
  epochLossSum?: number;
  /** Steps summed in epochLossSum. */
  epochLossCount?: number;
}

export interface StepResult {
  /** The step just taken (1-based). */
  step: number;
  /** Its loss, computed before the update. */
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Epoch (0-based) the step's samples came from. */
  epoch: number;
  /** True when this step finished its epoch. */
  epochEnded: boolean;
  /** Mean loss of the epoch's steps so far, this one included (across resumes). */
  epochLoss: number;
  /** Images seen in this step. */
  images: number;
}

/** A resolved option set (defaults filled in), as saved in checkpoints. */
export type ResolvedTrainerOptions = Required<Omit<TrainerOptions, 'augment' | 'steps' | 'epochs' | 'workers' | 'freeze' | 'embeddings'>> & {
  epochs: number;
  steps: number | undefined;
  augment: boolean;
  /** formatFreeze of the freeze mode. */
  freeze: string;
  /** Whether the steps read cached embeddings. */
  embeddings: boolean;
};

function resolveOptions(o: TrainerOptions): ResolvedTrainerOptions {
  return {
    batchSize: o.batchSize,
    gradAccum: o.gradAccum ?? 1,
    epochs: o.epochs ?? 1,
    steps: o.steps,
    lr: o.lr ?? 1e-3,
    minLr: o.minLr ?? 0,
    schedule: o.schedule ?? 'cosine',
    warmup: o.warmup ?? 0,
    weightDecay: o.weightDecay ?? 0.05,
    weightDecayOn: o.weightDecayOn ?? 'matrices',
    beta1: o.beta1 ?? 0.9,
    beta2: o.beta2 ?? 0.999,
    eps: o.eps ?? 1e-8,
    labelSmoothing: o.labelSmoothing ?? 0,
    clipGrad: o.clipGrad ?? 0,
    shuffle: o.shuffle ?? true,
    augment: o.augment !== undefined,
    mixup: o.mixup ?? 0,
    cutmix: o.cutmix ?? 0,
    seed: o.seed ?? 0,
    emaDecay: o.emaDecay ?? 0,
    freeze: formatFreeze(o.freeze ?? 'none'),
    layerDecay: o.layerDecay ?? 1,
    headWarmup: o.headWarmup ?? 0,
    embeddings: o.embeddings !== undefined,
  };
}

function positiveInt(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new TrainingConfigError(`${name} must be a positive integer, got ${v}`);
}

/**
 * Runs the optimization of a model on an in-memory dataset, one optimizer
 * step at a time: batches in a seeded order, optional augmentation and
 * mixup, cross entropy with label smoothing, gradient accumulation,
 * global-norm clipping, AdamW with a warmup + cosine (or constant) schedule.
 *
 * Everything random is driven by seeded Rngs whose state is part of
 * `getState()`, so a run restored with `setState()` (and the optimizer state
 * and weights) continues exactly as if it had never stopped.
 */
export class Trainer {
  readonly model: TrainableModel;
  readonly data: ImageDataset;
  readonly options: ResolvedTrainerOptions;
  /** The parameters each phase trains: the head-only warm-up (when headWarmup > 0), then the freeze mode (undefined: all). */
  private readonly warmupSplit: ModelSplit | undefined;
  private readonly mainSplit: ModelSplit | undefined;
  private readonly lrScales: Map<string, number> | undefined;
  private opt: { phase: 'warmup' | 'main'; optimizer: AdamW };
  private readonly embeddings: EmbeddingCache | undefined;
  /** Optimizer steps per epoch (incomplete last batches are dropped). */
  readonly stepsPerEpoch: number;
  /** Optimizer steps of the whole run. */
  readonly totalSteps: number;
  /** The moving average of the weights, when `emaDecay` > 0 (it starts at the weights the trainer was built with). */
  readonly ema: WeightEma | undefined;
  private readonly augment: Augmentation | undefined;
  private readonly workers: ShardWorkers | undefined;
  private readonly dataRng: Rng;
  private readonly modelRng: Rng;
  private state: Required<Omit<TrainerState, 'dataRng' | 'modelRng'>> = { step: 0, epoch: 0, batchInEpoch: 0, epochLossSum: 0, epochLossCount: 0 };
  private order: { epoch: number; indices: number[] } | undefined;

  constructor(model: TrainableModel, data: ImageDataset, options: TrainerOptions) {
    const o = resolveOptions(options);
    positiveInt('batchSize', o.batchSize);
    positiveInt('gradAccum', o.gradAccum);
    positiveInt('epochs', o.epochs);
    positiveInt('steps', o.steps);
    if (!(o.labelSmoothing >= 0 && o.labelSmoothing < 1)) throw new TrainingConfigError(`labelSmoothing must be in [0, 1), got ${o.labelSmoothing}`);
    if (!(o.clipGrad >= 0)) throw new TrainingConfigError(`clipGrad must be >= 0, got ${o.clipGrad}`);
    if (!(o.mixup >= 0)) throw new TrainingConfigError(`mixup alpha must be >= 0, got ${o.mixup}`);
    if (!(o.cutmix >= 0)) throw new TrainingConfigError(`cutmix alpha must be >= 0, got ${o.cutmix}`);
    validateEmaDecay(o.emaDecay);
    if (data.numClasses > model.config.numClasses) {
      throw new TrainingConfigError(
        `the data has ${data.numClasses} classes but the model outputs ${model.config.numClasses}`,
        'build the model with numClasses matching the data (CLI: --num-classes)',
      );
    }
    const perStep = o.batchSize * o.gradAccum;
    this.stepsPerEpoch = Math.floor(data.shape[0] / perStep);
    if (this.stepsPerEpoch < 1) {
      throw new TrainingConfigError(
        `${data.name} has ${data.shape[0]} samples, fewer than one step's ${perStep} (batch size ${o.batchSize} x accumulation ${o.gradAccum})`,
        'use a smaller batch size',
      );
    }
    this.totalSteps = o.steps ?? o.epochs * this.stepsPerEpoch;
    validateSchedule({ kind: o.schedule, lr: o.lr, totalSteps: this.totalSteps, warmupSteps: o.warmup, minLr: o.minLr });
    this.model = model;
    this.data = data;
    this.options = o;
    this.augment = options.augment;
    this.workers = options.workers;
    if (this.workers && this.workers.count + 1 > o.batchSize) {
      throw new TrainingConfigError(`a batch of ${o.batchSize} cannot be shared by ${this.workers.count + 1} threads`, 'use fewer workers or a larger batch size');
    }
    positiveInt('headWarmup', o.headWarmup === 0 ? undefined : o.headWarmup);
    const freeze = options.freeze ?? 'none';
    this.mainSplit = freeze === 'none' ? undefined : splitModel(model, freeze);
    if (o.headWarmup > 0 && freeze === 'backbone') throw new TrainingConfigError('a head-only warm-up before a linear probe changes nothing', 'use headWarmup with freeze none or blocks:K');
    this.warmupSplit = o.headWarmup > 0 ? splitModel(model, 'backbone') : undefined;
    if (this.workers && (this.mainSplit || this.warmupSplit)) {
      throw new TrainingConfigError('gradient workers train the whole model; freezing and head warm-up run on one thread', 'drop the workers (CLI: --workers 1)');
    }
    this.embeddings = options.embeddings;
    if (this.embeddings) this.checkEmbeddings(this.embeddings, freeze);
    this.lrScales = o.layerDecay !== 1 ? layerDecayScales([...model.namedParameters().keys()], o.layerDecay) : undefined;
    this.opt = { phase: 'main', optimizer: this.makeOptimizer(this.splitOf('main')) };
    if (this.warmupSplit) this.switchPhase('warmup');
    this.ema = o.emaDecay > 0 ? new WeightEma(model.variables(), o.emaDecay) : undefined;
    this.dataRng = new Rng(epochSeed(o.seed, -2));
    this.modelRng = new Rng(epochSeed(o.seed, -3));
  }

  get step(): number {
    return this.state.step;
  }

  /** The AdamW of the current phase (a fresh one starts when a head warm-up ends). */
  get optimizer(): AdamW {
    return this.opt.optimizer;
  }

  /** The optimizer phase of step `step` (1-based). */
  private phaseOf(step: number): 'warmup' | 'main' {
    return step <= this.options.headWarmup ? 'warmup' : 'main';
  }

  private splitOf(phase: 'warmup' | 'main'): ModelSplit | undefined {
    return phase === 'warmup' ? this.warmupSplit : this.mainSplit;
  }

  private makeOptimizer(split: ModelSplit | undefined): AdamW {
    const all = this.model.namedParameters();
    const params = split ? new Map(split.trainableNames.map((n) => [n, all.get(n)!])) : all;
    const o = this.options;
    return new AdamW(optimizedParameters(params, o.weightDecayOn, this.lrScales), { lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay });
  }

  private switchPhase(phase: 'warmup' | 'main'): void {
    if (this.opt.phase === phase) return;
    const optimizer = this.makeOptimizer(this.splitOf(phase));
    this.opt.optimizer.dispose();
    this.opt = { phase, optimizer };
  }

  private checkEmbeddings(cache: EmbeddingCache, freeze: FreezeMode): void {
    const o = this.options;
    const clash = freeze !== 'backbone' ? `freeze ${formatFreeze(freeze)}` : this.augment ? 'augmentation' : o.mixup > 0 || o.cutmix > 0 ? 'mixup/cutmix' : o.headWarmup > 0 ? 'a head warm-up' : this.workers ? 'workers' : undefined;
    if (clash) throw new TrainingConfigError(`cached embeddings serve a linear probe on fixed images, not ${clash}`, 'use freeze backbone without augmentation, or train without cached embeddings');
    if (cache.count !== this.data.shape[0]) throw new TrainingConfigError(`the embedding cache holds ${cache.count} samples, the data ${this.data.shape[0]}`, 'embed the same dataset you train on');
  }

  get epoch(): number {
    return this.state.epoch;
  }

  get done(): boolean {
    return this.state.step >= this.totalSteps;
  }

  /** The learning rate of step `step` (1-based). */
  learningRate(step: number): number {
    const o = this.options;
    return learningRateAt(step, { kind: o.schedule, lr: o.lr, totalSteps: this.totalSteps, warmupSteps: o.warmup, minLr: o.minLr });
  }

  /** The sample indices of the next optimizer step, one array per micro-batch. */
  nextIndices(): number[][] {
    const { epoch, batchInEpoch } = this.state;
    if (!this.order || this.order.epoch !== epoch) {
      this.order = { epoch, indices: epochOrder(this.data.shape[0], epoch, this.options.seed, this.options.shuffle) };
    }
    const { batchSize, gradAccum } = this.options;
    const first = batchInEpoch * gradAccum;
    return Array.from({ length: gradAccum }, (_, k) => this.order!.indices.slice((first + k) * batchSize, (first + k + 1) * batchSize));
  }

  /** Pixels (augmented), then mixup/cutmix, then tensors fitted to the model. */
  private prepare(indices: number[]): MicroBatch {
    if (this.embeddings) return { x: embeddingRows(this.embeddings, indices), targets: tf.tensor1d(Int32Array.from(indices, (i) => this.data.labels[i]!), 'int32') };
    const [, h, w, c] = this.data.shape;
    const shape: [number, number, number, number] = [indices.length, h, w, c];
    const pixels = gatherPixels(this.data, indices, this.augment ? { augment: this.augment, rng: this.dataRng } : {});
    const labels = Int32Array.from(indices, (i) => this.data.labels[i]!);
    const { mixup, cutmix } = this.options;
    if (mixup > 0 || cutmix > 0) {
      const k = this.model.config.numClasses;
      // Smoothing is left to the loss: it is linear, so smoothing the mixed targets there is the same.
      const mixed = mixupCutmix({ data: pixels, shape }, labels, k, this.dataRng, { mixupAlpha: mixup, cutmixAlpha: cutmix, labelSmoothing: 0 });
      return { x: pixelsToTensor(mixed.images.data, shape, this.model.config), targets: tf.tensor2d(mixed.targets, [indices.length, k]) };
    }
    return { x: pixelsToTensor(pixels, shape, this.model.config), targets: tf.tensor1d(labels, 'int32') };
  }

  /** Takes one optimizer step on this thread (with `workers`, use trainStepAsync). */
  trainStep(): StepResult {
    const { step, lr, micro } = this.beginStep();
    try {
      const r = this.gradients(micro, false);
      return this.finishStep(step, lr, r.loss, r.grads);
    } finally {
      for (const m of micro) tf.dispose([m.x, m.targets]);
    }
  }

  /** The loss and gradients of this step's micro-batches, for the phase the run is in. */
  private gradients(micro: MicroBatch[], keepLossTensors: boolean): LossAndGradients {
    const split = this.embeddings ? this.embeddings.split : this.splitOf(this.opt.phase);
    return lossAndGradients(this.model, micro, {
      labelSmoothing: this.options.labelSmoothing,
      rng: this.modelRng,
      keepLossTensors,
      ...(split ? { split } : {}),
      ...(this.embeddings ? { precomputed: true } : {}),
    });
  }

  /**
   * trainStep() with no synchronous reads: the loss and the gradient norm
   * are read with `await data()`. The same numbers; for backends whose
   * synchronous reads are slow or unreliable (webgpu, notably in workers).
   */
  private async trainStepReadingAsync(): Promise<StepResult> {
    const { step, lr, micro } = this.beginStep();
    try {
      const r = this.gradients(micro, true);
      let grads = r.grads;
      let loss = 0;
      let norm: number;
      try {
        for (const t of r.lossTensors!) loss += (await t.data())[0]!;
        loss *= 1 / r.lossTensors!.length;
        if (this.options.clipGrad > 0) {
          // Clipped here, reading the norm asynchronously (one launch on wasm and cpu).
          const clipped = await clipByGlobalNormAsync(r.grads, this.options.clipGrad);
          tf.dispose(Object.values(r.grads));
          grads = clipped.grads;
          norm = clipped.norm;
        } else {
          const n = globalNorm(Object.values(r.grads));
          try {
            norm = (await n.data())[0]!;
          } finally {
            n.dispose();
          }
        }
      } catch (e) {
        tf.dispose(Object.values(grads));
        throw e;
      } finally {
        tf.dispose(r.lossTensors!);
      }
      return this.finishStep(step, lr, loss, grads, { norm, clipped: true });
    } finally {
      for (const m of micro) tf.dispose([m.x, m.targets]);
    }
  }

  /**
   * Takes one optimizer step, sharing the batch with the gradient workers
   * when the trainer has them: each micro-batch is cut into near-equal
   * parts, this thread differentiates the first while each worker
   * differentiates one of the others at the same weights, and the gradients
   * are averaged (weighted by part size) before clipping and AdamW. Without
   * workers it is trainStep reading the loss and gradient norm with
   * `await data()` (the same numbers; what browsers should call).
   */
  async trainStepAsync(): Promise<StepResult> {
    const workers = this.workers;
    if (!workers || workers.count === 0) return this.trainStepReadingAsync();
    const { step, lr, micro } = this.beginStep();
    const parts = workers.count + 1;
    const sizes = shardSizes(this.options.batchSize, parts);
    const pieces: MicroBatch[] = [];
    try {
      // Cut every micro-batch the same way; part k of each goes to shard k (part 0 stays here).
      const cut = micro.map((m) => {
        const xs = tf.split(m.x, sizes, 0) as tf.Tensor4D[];
        const ts = tf.split(m.targets, sizes, 0) as MicroBatch['targets'][];
        const parts = xs.map((x, k) => ({ x, targets: ts[k]! }));
        pieces.push(...parts);
        return parts;
      });
      // The weights are read once; each further worker gets a copy (a request's arrays move to its worker).
      const weights = modelWeights(this.model);
      const requests = Array.from({ length: workers.count }, (_, w) => ({
        params: w === 0 ? weights : Object.fromEntries(Object.entries(weights).map(([k, v]) => [k, v.slice()])),
        batches: cut.map((c) => shardBatchOf(c[w + 1]!)),
        labelSmoothing: this.options.labelSmoothing,
        seed: this.modelRng.seed(),
      }));
      const pending = requests.map((r, w) => workers.compute(w, r));
      // Rejections are collected below; keep Node from reporting them as unhandled meanwhile.
      for (const p of pending) p.catch(() => undefined);
      const mine = lossAndGradients(this.model, cut.map((c) => c[0]!), { labelSmoothing: this.options.labelSmoothing, rng: this.modelRng });
      let theirs: ShardResult[];
      try {
        theirs = await Promise.all(pending);
      } catch (e) {
        tf.dispose(Object.values(mine.grads));
        throw e;
      }
      const shares = sizes.map((n) => n / this.options.batchSize);
      const loss = shares[0]! * mine.loss + theirs.reduce((s, r, w) => s + shares[w + 1]! * r.loss, 0);
      const grads = combineShardGradients(this.model, mine.grads, theirs, shares);
      return this.finishStep(step, lr, loss, grads);
    } finally {
      for (const m of [...micro, ...pieces]) tf.dispose([m.x, m.targets]);
    }
  }

  /** The step's number, learning rate and prepared micro-batches (the caller disposes them). */
  private beginStep(): { step: number; lr: number; micro: MicroBatch[] } {
    if (this.done) throw new TrainingConfigError(`the run is complete (${this.totalSteps} steps)`, 'raise the step or epoch count to train further');
    const step = this.state.step + 1;
    this.switchPhase(this.phaseOf(step));
    this.model.train();
    return { step, lr: this.learningRate(step), micro: this.nextIndices().map((idx) => this.prepare(idx)) };
  }

  /** Clipping, the AdamW update and the step's bookkeeping; takes ownership of `grads`. */
  /**
   * `read`: the global norm already read by the caller, and the gradients
   * already clipped (when clipping is on).
   */
  private finishStep(step: number, lr: number, loss: number, grads: Record<string, tf.Tensor>, read?: { norm: number; clipped: true }): StepResult {
    const epoch = this.state.epoch;
    let gradNorm: number;
    try {
      // A non-finite loss or gradient would write NaN into every weight: stop before the update.
      if (!Number.isFinite(loss)) throw this.diverged(step, 'the loss', loss);
      if (read) {
        gradNorm = read.norm;
      } else if (this.options.clipGrad > 0) {
        const clipped = clipByGlobalNorm(grads, this.options.clipGrad);
        tf.dispose(Object.values(grads));
        grads = clipped.grads;
        gradNorm = clipped.norm;
      } else {
        const n = globalNorm(Object.values(grads));
        gradNorm = n.dataSync()[0]!;
        n.dispose();
      }
      if (!Number.isFinite(gradNorm)) throw this.diverged(step, 'the gradient norm', gradNorm);
      this.optimizer.step(grads, lr);
      this.ema?.update(step);
    } finally {
      tf.dispose(Object.values(grads));
    }
    this.state.step = step;
    this.state.batchInEpoch += 1;
    this.state.epochLossSum += loss;
    this.state.epochLossCount += 1;
    const epochLoss = this.state.epochLossSum / this.state.epochLossCount;
    const epochEnded = this.state.batchInEpoch >= this.stepsPerEpoch;
    if (epochEnded) {
      this.state.epoch += 1;
      this.state.batchInEpoch = 0;
      this.state.epochLossSum = 0;
      this.state.epochLossCount = 0;
    }
    return { step, loss, lr, gradNorm, epoch, epochEnded, epochLoss, images: this.options.batchSize * this.options.gradAccum };
  }

  private diverged(step: number, what: string, value: number): DivergenceError {
    return new DivergenceError(step, what, value, `lower the learning rate (it is ${this.options.lr}) or clip gradients; no update was applied, earlier checkpoints are kept`);
  }

  getState(): TrainerState {
    return { ...this.state, dataRng: this.dataRng.getState(), modelRng: this.modelRng.getState() };
  }

  /** Restores where the run stands (weights and optimizer moments are restored separately). */
  setState(s: TrainerState): void {
    for (const k of ['step', 'epoch', 'batchInEpoch', 'dataRng', 'modelRng'] as const) {
      if (!Number.isInteger(s[k]) || s[k] < 0) throw new TrainingConfigError(`trainer state ${k} must be an integer >= 0, got ${String(s[k])}`);
    }
    if (s.batchInEpoch >= this.stepsPerEpoch) {
      throw new TrainingConfigError(`trainer state is at batch ${s.batchInEpoch} of an epoch of ${this.stepsPerEpoch} steps`, 'resume with the same data and batch size');
    }
    const lossSum = s.epochLossSum ?? 0;
    const lossCount = s.epochLossCount ?? 0;
    if (!Number.isFinite(lossSum) || !Number.isInteger(lossCount) || lossCount < 0 || lossCount > s.batchInEpoch) {
      throw new TrainingConfigError(`trainer state has an epoch loss of ${lossSum} over ${lossCount} steps at batch ${s.batchInEpoch}`, 'the checkpoint is damaged; start a new run');
    }
    this.state = { step: s.step, epoch: s.epoch, batchInEpoch: s.batchInEpoch, epochLossSum: lossSum, epochLossCount: lossCount };
    this.dataRng.setState(s.dataRng);
    this.modelRng.setState(s.modelRng);
    this.order = undefined;
    // The optimizer of the phase the next step belongs to (restore its moments after this).
    this.switchPhase(this.phaseOf(s.step + 1));
  }

  getOptimizerState(): AdamWState {
    return this.opt.optimizer.getState();
  }

  /** Restores the moments of the current phase's optimizer: call after setState. */
  setOptimizerState(state: AdamWState): void {
    this.opt.optimizer.setState(state);
  }

  /** Frees the optimizer's moments and the weight average (not the model). */
  dispose(): void {
    this.opt.optimizer.dispose();
    this.ema?.dispose();
  }
}

// One Teach run: the model with its fresh head, the data, the Trainer; steps
// until done or stopped, validation after each epoch, classification and the
// model directory of the result.
import * as tf from '@tensorflow/tfjs-core';
import type { TaskModel } from '@vitkit/tasks';
import { embedDatasetAsync, evaluateAsync, Trainer, type EmbeddingCache, type TrainerOptions } from '@vitkit/training/browser';
import type { VisionTransformer } from '@vitkit/vit';
import { modelDirectoryFiles, type ModelFile } from './train_files.js';
import type { TeachData } from './train_data.js';
import type { TeachClassifyResult, TeachMode, TeachPrepared, TeachSettings, TeachStep } from './train_protocol.js';

/** What each mode leaves fixed (the library's freeze modes). */
const FREEZE: Record<TeachMode, TrainerOptions['freeze']> = { probe: 'backbone', finetune: 'none' };

/**
 * The Trainer options of a Teach run: the user's epochs, batch (never more
 * than the images there are) and learning rate, a warmup over the first
 * tenth of the steps then cosine decay, AdamW's default weight decay, no
 * augmentation (a few dozen images; the same inputs every epoch keep runs
 * reproducible across backends).
 */
export function teachTrainerOptions(settings: TeachSettings, trainCount: number): TrainerOptions {
  const batchSize = Math.max(1, Math.min(settings.batchSize, trainCount));
  const totalSteps = Math.floor(trainCount / batchSize) * settings.epochs;
  return { batchSize, epochs: settings.epochs, lr: settings.lr, warmup: Math.floor(totalSteps / 10), seed: settings.seed, freeze: FREEZE[settings.mode] };
}

/** Seconds per step over the last few steps, for the ETA. */
class Pace {
  private readonly times: number[] = [];
  tick(): void {
    this.times.push(performance.now());
    if (this.times.length > 11) this.times.shift();
  }
  etaSeconds(stepsLeft: number): number {
    if (this.times.length < 2) return NaN;
    const per = (this.times.at(-1)! - this.times[0]!) / (this.times.length - 1) / 1000;
    return per * stepsLeft;
  }
}

const yieldToEvents = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

export class TeachSession {
  readonly trainer: Trainer;
  private lastValidation: { accuracy: number; loss: number } | undefined;

  private constructor(
    /** The starting model as loaded: its preprocessing turns new images into inputs. */
    readonly task: TaskModel,
    /** The model being trained (the starting backbone, a fresh head). */
    readonly model: VisionTransformer,
    readonly data: TeachData,
    readonly settings: TeachSettings,
    embeddings: EmbeddingCache | undefined,
  ) {
    this.trainer = new Trainer(model, data.train, { ...teachTrainerOptions(settings, data.train.shape[0]), ...(embeddings ? { embeddings } : {}) });
  }

  /**
   * A run ready to step. A probe embeds the training images once with the
   * frozen backbone (read asynchronously, right on webgpu in a worker) and
   * trains the head on those rows: the same steps as a probe on the full
   * model, without a backbone pass per step.
   */
  static async open(task: TaskModel, model: VisionTransformer, data: TeachData, settings: TeachSettings, onProgress?: (done: number, total: number) => void): Promise<TeachSession> {
    const embeddings = settings.mode === 'probe' ? await embedDatasetAsync(model, data.train, { batchSize: 64, ...(onProgress ? { onProgress } : {}) }) : undefined;
    return new TeachSession(task, model, data, settings, embeddings);
  }

  describe(modelName: string): TeachPrepared {
    const classNames = this.data.all.classNames!;
    const count = (labels: Int32Array, k: number): number => labels.filter((y) => y === k).length;
    return {
      modelName,
      imageSize: this.model.config.imageSize,
      classNames,
      counts: classNames.map((_, k) => [count(this.data.train.labels, k), count(this.data.validation.labels, k)]),
      totalSteps: this.trainer.totalSteps,
      stepsPerEpoch: this.trainer.stepsPerEpoch,
      notices: this.data.notices,
    };
  }

  /**
   * Steps until the run is done or `stopRequested()` says stop (checked
   * between steps; the worker yields to its message queue there, so a stop
   * message is read). Returns whether the run finished.
   */
  async run(onStep: (s: TeachStep) => void, stopRequested: () => boolean): Promise<{ finished: boolean; validation?: { accuracy: number; loss: number } }> {
    const pace = new Pace();
    pace.tick();
    while (!this.trainer.done) {
      await yieldToEvents();
      if (stopRequested()) break;
      // Asynchronous reads of the loss: webgpu's synchronous ones return zeros in a worker on some adapters.
      const r = await this.trainer.trainStepAsync();
      pace.tick();
      const step: TeachStep = { step: r.step, totalSteps: this.trainer.totalSteps, epoch: r.epoch, loss: r.loss, lr: r.lr, etaSeconds: pace.etaSeconds(this.trainer.totalSteps - r.step) };
      if (r.epochEnded || this.trainer.done) {
        const v = await evaluateAsync(this.model, this.data.validation, { batchSize: 64 });
        this.lastValidation = { accuracy: v.accuracy, loss: v.loss };
        step.validation = this.lastValidation;
      }
      onStep(step);
    }
    return { finished: this.trainer.done, ...(this.lastValidation ? { validation: this.lastValidation } : {}) };
  }

  /** Class probabilities of one image with the weights as they are now. */
  async classify(image: Blob): Promise<TeachClassifyResult> {
    const x = await this.task.preprocess(image);
    const wasTraining = this.model.training;
    this.model.eval();
    try {
      const probs = tf.tidy(() => tf.softmax(this.model.forward(x).logits));
      const probabilities = Array.from(await probs.data());
      probs.dispose();
      const labels = this.data.all.classNames!;
      const top = probabilities.map((p, i) => ({ label: labels[i]!, probability: p })).sort((a, b) => b.probability - a.probability);
      return { probabilities, labels, top };
    } finally {
      x.dispose();
      if (wasTraining) this.model.train();
    }
  }

  /** The model directory of the weights as they are now. */
  files(): Promise<ModelFile[]> {
    return modelDirectoryFiles(this.model, this.task.spec!, { vitkit_teach: `${this.settings.mode}, step ${this.trainer.step}` });
  }

  dispose(): void {
    this.trainer.dispose();
    this.model.dispose();
    this.task.dispose();
  }
}

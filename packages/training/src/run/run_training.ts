import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDataset } from '../data/dataset.js';
import { DivergenceError, TrainingConfigError } from '../errors.js';
import { evaluate, type EvaluationResult, type TestTimeAugmentation } from '../train/evaluate.js';
import type { StepResult, Trainer } from '../train/trainer.js';
import { makeDirectory, writeFileAtomic } from './atomic.js';
import { CHECKPOINT_DIRS, cleanStaleStaging, RUN_FILES, saveRunCheckpoint } from './checkpoint.js';
import { MetricsLog, type MetricsRecord } from './metrics.js';
import { renderTrainingPlot } from './plot.js';

export const METRICS_FILE = 'metrics.jsonl';
export const PLOT_FILE = 'training_curves.svg';
export const PREPROCESSOR_FILE = 'preprocessor_config.json';

/** Everything runTraining writes into a run directory. */
const RUN_OUTPUTS = [METRICS_FILE, PLOT_FILE, PREPROCESSOR_FILE, RUN_FILES.model, RUN_FILES.modelEma, RUN_FILES.config, ...CHECKPOINT_DIRS];

/** The files and directories of an earlier run in `dir` (none when it holds no run). */
export function runOutputsIn(dir: string): string[] {
  return RUN_OUTPUTS.filter((name) => existsSync(join(dir, name)));
}

/** Removes an earlier run's files from `dir` (to start over in it); other files stay. */
export function removeRunOutputs(dir: string): void {
  for (const name of runOutputsIn(dir)) rmSync(join(dir, name), { recursive: true, force: true });
  cleanStaleStaging(dir);
}

/** Progress numbers passed to onStep. */
export interface StepProgress {
  /** Images per second over the last few steps. */
  imagesPerSecond: number;
  /** Seconds since this process started training. */
  elapsedSeconds: number;
  /** Estimated seconds to the last step. */
  etaSeconds: number;
  totalSteps: number;
  logged: boolean;
}

export interface RunTrainingOptions {
  /** The run directory (created when missing). */
  outDir: string;
  /** Evaluated at the end of every epoch (accuracy goes to metrics.jsonl). */
  validation?: ImageDataset;
  /** Evaluated once when the run completes. */
  test?: ImageDataset;
  /** Log every N steps (step 1 and the last step are always logged). Default 10. */
  logEvery?: number;
  /** Also checkpoint every N steps (checkpoints are always written at epoch ends, at the end, and on abort). */
  checkpointEvery?: number;
  /** Abort (e.g. on Ctrl-C): the run saves a checkpoint and returns `interrupted`. */
  signal?: AbortSignal;
  /** True when the trainer was restored from this run directory: metrics logged after the checkpoint are dropped. */
  resumed?: boolean;
  /** Saved in trainer_state.json and handed back on resume. */
  extra?: Record<string, unknown>;
  evalBatchSize?: number;
  /**
   * Also evaluate the test split with this test-time augmentation (the plain
   * evaluation is always reported too): results in `testTta` / `emaTestTta`
   * and `tta_*` fields of the metrics' test record. Default `'none'`.
   */
  testTta?: TestTimeAugmentation;
  /** flip-zoom's centre-crop side fraction (default DEFAULT_TTA_ZOOM; vit train uses the square root of its crop scale). */
  testTtaZoom?: number;
  /**
   * The preprocessor_config.json to write (e.g. the fine-tuned checkpoint's own, which the
   * inputs were made with); default: one describing the training data's normalization.
   */
  preprocessor?: Record<string, unknown>;
  /** Title of the plot. */
  title?: string;
  onStep?: (result: StepResult, progress: StepProgress) => void;
  onEpoch?: (record: Extract<MetricsRecord, { type: 'epoch' }>) => void;
  onCheckpoint?: (step: number, dir: string) => void;
  /** Called before and after evaluations (to pause a progress bar). */
  onEvaluate?: (phase: 'start' | 'end', split: 'val' | 'test') => void;
}

export interface RunTrainingResult {
  status: 'completed' | 'interrupted';
  step: number;
  outDir: string;
  lastValidation?: EvaluationResult;
  test?: EvaluationResult;
  /** The same evaluations of the weight average, when the trainer keeps one. */
  lastEmaValidation?: EvaluationResult;
  emaTest?: EvaluationResult;
  /** The test evaluations with `testTta`, when one was asked for. */
  testTta?: EvaluationResult;
  emaTestTta?: EvaluationResult;
  elapsedSeconds: number;
}

/** Hugging Face `preprocessor_config.json` describing how batches were normalized, so eval can do the same. */
export function preprocessorConfig(ds: ImageDataset, imageSize: [number, number]): Record<string, unknown> {
  const uint8 = ds.images instanceof Uint8Array;
  const n = ds.normalization;
  return {
    image_processor_type: 'ViTImageProcessor',
    do_resize: true,
    size: { height: imageSize[0], width: imageSize[1] },
    resample: 2,
    do_rescale: uint8,
    rescale_factor: 1 / 255,
    do_normalize: uint8 && n !== undefined,
    ...(uint8 && n ? { image_mean: n.mean, image_std: n.std } : {}),
  };
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Drives a Trainer to the end of its run, with everything a run directory
 * holds: metrics.jsonl (logged steps, per-epoch validation accuracy, final
 * test accuracy), the loss/accuracy plot (SVG), checkpoints (at epoch ends,
 * every `checkpointEvery` steps, at the end, and when `signal` aborts) with
 * model.safetensors and config.json, and preprocessor_config.json. When
 * the trainer keeps a weight average (`emaDecay`), the average is evaluated
 * too (`ema_accuracy` beside `accuracy`) and saved as model_ema.safetensors.
 * It yields to the event loop between steps so signal handlers can run.
 */
export async function runTraining(trainer: Trainer, options: RunTrainingOptions): Promise<RunTrainingResult> {
  const logEvery = options.logEvery ?? 10;
  const checkpointEvery = options.checkpointEvery ?? 0;
  if (!Number.isInteger(logEvery) || logEvery < 1) throw new TrainingConfigError(`logEvery must be a positive integer, got ${logEvery}`);
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 0) throw new TrainingConfigError(`checkpointEvery must be an integer >= 0, got ${checkpointEvery}`);
  const out = options.outDir;
  makeDirectory(out);
  cleanStaleStaging(out);
  const preprocessor = options.preprocessor ?? preprocessorConfig(trainer.data, trainer.model.config.imageSize);
  writeFileAtomic(join(out, PREPROCESSOR_FILE), `${JSON.stringify(preprocessor, null, 2)}\n`);
  const metrics = new MetricsLog(join(out, METRICS_FILE));
  if (options.resumed) metrics.truncateAfter(trainer.step);
  else writeFileAtomic(metrics.path, '');
  const title = options.title ?? 'training';
  const writePlot = (): void => writeFileAtomic(join(out, PLOT_FILE), renderTrainingPlot(metrics.read(), title));
  const extra = options.extra ?? {};
  let savedAt = -1;
  const checkpoint = (): void => {
    if (savedAt === trainer.step) return;
    const dir = saveRunCheckpoint(out, trainer, extra);
    savedAt = trainer.step;
    options.onCheckpoint?.(trainer.step, dir);
  };

  const start = performance.now();
  const recent: { t: number; images: number }[] = [];
  // This epoch's training steps in this session (validation excluded): the epoch record's img/s.
  const epochTrain = { ms: 0, images: 0 };
  let lastValidation: EvaluationResult | undefined;
  let lastEmaValidation: EvaluationResult | undefined;
  const evalBatchSize = options.evalBatchSize ?? 256;
  // The training weights, then (with an EMA) the averaged weights swapped into the model.
  const evaluateBoth = (ds: ImageDataset, tta: TestTimeAugmentation = 'none'): [EvaluationResult, EvaluationResult | undefined] => {
    const opts = { batchSize: evalBatchSize, tta, ...(options.testTtaZoom !== undefined ? { zoom: options.testTtaZoom } : {}) };
    return [evaluate(trainer.model, ds, opts), trainer.ema?.swapIn(() => evaluate(trainer.model, ds, opts))];
  };
  const testTta = options.testTta ?? 'none';
  const elapsed = (): number => (performance.now() - start) / 1000;
  let stepsThisSession = 0;

  while (!trainer.done) {
    await yieldToEventLoop();
    if (options.signal?.aborted) {
      checkpoint();
      writePlot();
      return { status: 'interrupted', step: trainer.step, outDir: out, ...(lastValidation ? { lastValidation } : {}), elapsedSeconds: elapsed() };
    }
    const t0 = performance.now();
    let r: StepResult;
    try {
      r = await trainer.trainStepAsync();
    } catch (e) {
      // Diverged: no update was applied and nothing is saved, so the last checkpoint (all finite) stays.
      if (e instanceof DivergenceError) writePlot();
      throw e;
    }
    const t1 = performance.now();
    stepsThisSession += 1;
    recent.push({ t: t1 - t0, images: r.images });
    epochTrain.ms += t1 - t0;
    epochTrain.images += r.images;
    if (recent.length > 20) recent.shift();
    const recentMs = recent.reduce((s, x) => s + x.t, 0);
    const imagesPerSecond = (recent.reduce((s, x) => s + x.images, 0) * 1000) / Math.max(recentMs, 1e-6);
    const avgStepS = elapsed() / stepsThisSession;
    const logged = r.step === 1 || r.step % logEvery === 0 || r.step === trainer.totalSteps;
    if (logged) {
      metrics.append({
        type: 'step',
        step: r.step,
        epoch: r.epoch,
        loss: r.loss,
        lr: r.lr,
        grad_norm: r.gradNorm,
        img_per_s: Number(imagesPerSecond.toFixed(1)),
        time_s: Number(elapsed().toFixed(2)),
      });
    }
    options.onStep?.(r, { imagesPerSecond, elapsedSeconds: elapsed(), etaSeconds: avgStepS * (trainer.totalSteps - r.step), totalSteps: trainer.totalSteps, logged });
    if (r.epochEnded) {
      if (options.validation && options.validation.shape[0] > 0) {
        options.onEvaluate?.('start', 'val');
        [lastValidation, lastEmaValidation] = evaluateBoth(options.validation);
        options.onEvaluate?.('end', 'val');
      }
      const record: Extract<MetricsRecord, { type: 'epoch' }> = {
        type: 'epoch',
        step: r.step,
        epoch: r.epoch + 1,
        accuracy: lastValidation && options.validation ? lastValidation.accuracy : Number.NaN,
        val_loss: lastValidation && options.validation ? lastValidation.loss : Number.NaN,
        ...(lastEmaValidation && options.validation ? { ema_accuracy: lastEmaValidation.accuracy, ema_val_loss: lastEmaValidation.loss } : {}),
        // The trainer keeps the epoch's running loss, so a resumed epoch averages all its steps.
        train_loss: r.epochLoss,
        img_per_s: Number(((epochTrain.images * 1000) / Math.max(epochTrain.ms, 1e-6)).toFixed(1)),
        time_s: Number(elapsed().toFixed(2)),
      };
      epochTrain.ms = 0;
      epochTrain.images = 0;
      if (options.validation) {
        metrics.append(record);
        options.onEpoch?.(record);
      }
      checkpoint();
      writePlot();
    } else if (checkpointEvery > 0 && r.step % checkpointEvery === 0) {
      checkpoint();
    }
  }
  checkpoint();
  let test: EvaluationResult | undefined;
  let emaTest: EvaluationResult | undefined;
  let ttaTest: EvaluationResult | undefined;
  let emaTtaTest: EvaluationResult | undefined;
  if (options.test && options.test.shape[0] > 0) {
    options.onEvaluate?.('start', 'test');
    [test, emaTest] = evaluateBoth(options.test);
    if (testTta !== 'none') [ttaTest, emaTtaTest] = evaluateBoth(options.test, testTta);
    options.onEvaluate?.('end', 'test');
    metrics.append({
      type: 'test',
      step: trainer.step,
      accuracy: test.accuracy,
      loss: test.loss,
      count: test.count,
      ...(emaTest ? { ema_accuracy: emaTest.accuracy, ema_loss: emaTest.loss } : {}),
      ...(ttaTest ? { tta: testTta, tta_accuracy: ttaTest.accuracy, tta_loss: ttaTest.loss } : {}),
      ...(emaTtaTest ? { ema_tta_accuracy: emaTtaTest.accuracy, ema_tta_loss: emaTtaTest.loss } : {}),
    });
  }
  writePlot();
  return {
    status: 'completed',
    step: trainer.step,
    outDir: out,
    ...(lastValidation ? { lastValidation } : {}),
    ...(test ? { test } : {}),
    ...(lastEmaValidation ? { lastEmaValidation } : {}),
    ...(emaTest ? { emaTest } : {}),
    ...(ttaTest ? { testTta: ttaTest } : {}),
    ...(emaTtaTest ? { emaTestTta: emaTtaTest } : {}),
    elapsedSeconds: elapsed(),
  };
}

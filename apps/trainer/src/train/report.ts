// What `vit train` prints: the run it starts, each epoch, and the result
// (lines of text, or one JSON object with --json).
import { join } from 'node:path';
import { RUN_FILES, type MetricsRecord, type RunTrainingResult, type TestTimeAugmentation } from '@vitkit/training';
import { formatDuration } from './progress.js';
import type { TrainingSession } from './session.js';

const percent = (x: number): string => `${(x * 100).toFixed(2)}%`;

/** The two lines that open a run: model and data, then backend, steps and run directory. */
export function describeRun(s: TrainingSession, o: { resumed: boolean; backend: string; workers: number; outDir: string }): string[] {
  const { model, setup, split, trainer } = s;
  const cfg = model.config;
  return [
    `${o.resumed ? 'resuming' : 'training'} ViT (dim ${cfg.embedDim}, depth ${cfg.depth}, heads ${cfg.numHeads}, patch ${cfg.patchSize}, ` +
      `${cfg.imageSize[0]}x${cfg.imageSize[1]}x${cfg.inChannels}, ${cfg.numClasses} classes, ${(model.numParameters() / 1e6).toFixed(2)}M params; ${setup.source}${setup.headReplaced ? ', new head' : ''}) ` +
      `on ${s.dataset.source}: ${split.train.shape[0]} train / ${split.val?.shape[0] ?? 0} val / ${s.dataset.test?.shape[0] ?? 0} test images`,
    `backend ${o.backend}${o.workers > 1 ? ` x ${o.workers} threads (data-parallel)` : ''}; ${trainer.totalSteps} steps (${trainer.stepsPerEpoch} per epoch, batch ${s.perStep})${trainer.step ? `, from step ${trainer.step}` : ''}; run directory ${o.outDir}`,
  ];
}

/** One line per finished epoch. */
export function epochLine(e: Extract<MetricsRecord, { type: 'epoch' }>, totalEpochs: number): string {
  const ema = e.ema_accuracy !== undefined ? `, EMA weights ${percent(e.ema_accuracy)}` : '';
  return `epoch ${e.epoch}/${totalEpochs}: val accuracy ${percent(e.accuracy)}${ema} (val loss ${e.val_loss.toFixed(4)}, train loss ${e.train_loss.toFixed(4)}${e.img_per_s !== undefined ? `, ${e.img_per_s.toFixed(0)} img/s` : ''}) at ${formatDuration(e.time_s ?? 0)}`;
}

/** The result as --json prints it. */
export function resultJson(result: RunTrainingResult, o: { outDir: string; backend: string; tta: TestTimeAugmentation }): Record<string, unknown> {
  const { tta } = o;
  return {
    status: result.status,
    step: result.step,
    out: o.outDir,
    backend: o.backend,
    ...(result.test ? { test_accuracy: result.test.accuracy, test_loss: result.test.loss } : {}),
    ...(result.lastValidation ? { val_accuracy: result.lastValidation.accuracy } : {}),
    ...(result.emaTest ? { ema_test_accuracy: result.emaTest.accuracy, ema_test_loss: result.emaTest.loss } : {}),
    ...(result.lastEmaValidation ? { ema_val_accuracy: result.lastEmaValidation.accuracy } : {}),
    ...(result.testTta ? { tta, tta_test_accuracy: result.testTta.accuracy, tta_test_loss: result.testTta.loss } : {}),
    ...(result.emaTestTta ? { ema_tta_test_accuracy: result.emaTestTta.accuracy, ema_tta_test_loss: result.emaTestTta.loss } : {}),
    seconds: Number(result.elapsedSeconds.toFixed(1)),
  };
}

/** The result as lines of text. */
export function resultLines(result: RunTrainingResult, o: { outDir: string; tta: TestTimeAugmentation }): string[] {
  const { outDir, tta } = o;
  if (result.status === 'interrupted') return [`stopped at step ${result.step}; resume with: vit train --resume ${outDir}`];
  const { test, lastValidation: val, emaTest, lastEmaValidation: emaVal, testTta, emaTestTta } = result;
  return [
    test ? `test accuracy: ${percent(test.accuracy)} (${test.count} images, loss ${test.loss.toFixed(4)})` : val ? `val accuracy: ${percent(val.accuracy)} (${val.count} images)` : undefined,
    emaTest
      ? `test accuracy of the EMA weights: ${percent(emaTest.accuracy)} (loss ${emaTest.loss.toFixed(4)}; ${join(outDir, RUN_FILES.modelEma)})`
      : emaVal ? `val accuracy of the EMA weights: ${percent(emaVal.accuracy)}` : undefined,
    testTta ? `test accuracy with ${tta} test-time augmentation: ${percent(testTta.accuracy)} (loss ${testTta.loss.toFixed(4)})` : undefined,
    emaTestTta ? `test accuracy of the EMA weights with ${tta} test-time augmentation: ${percent(emaTestTta.accuracy)} (loss ${emaTestTta.loss.toFixed(4)})` : undefined,
    `done in ${formatDuration(result.elapsedSeconds)}: ${outDir}`,
  ].filter((l) => l !== undefined);
}

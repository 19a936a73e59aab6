// `vit train`: trains or fine-tunes a ViT on an image dataset and writes a
// run directory (weights, config, optimizer state, metrics, plot). With no
// arguments it is the project's default run: a small ViT on the Fashion-MNIST
// subset shipped in data/, in a few minutes on two CPU cores. Its flags are
// one table (train/options.ts); --recipe reads them from a file.
import { join, resolve } from 'node:path';
import { setupBackend, VitkitError } from '@vitkit/core';
import { checkpointDirOf, DivergenceError, registerGradients, runTraining } from '@vitkit/training';
import type { Command, Flags } from '../command.js';
import { parseArgsOptions, usageLines } from '../flag_table.js';
import { readTrainOptions, settingsOf, TRAIN_FLAGS } from '../train/options.js';
import { ProgressBar } from '../train/progress.js';
import { describeRun, epochLine, resultJson, resultLines } from '../train/report.js';
import { carriedValues, checkFreshRunDir, readResumedRun, resumeDir, savedExtra, savedWorkerCount, startOver } from '../train/resume.js';
import { onInterrupt, openSession } from '../train/session.js';
import { planWorkers } from '../train/workers.js';

export { DEFAULT_DATA, TRAIN_DEFAULTS } from '../train/options.js';
export { trainValSplit } from '../train/session.js';

const USAGE = `usage: vit train [options]

Trains (or fine-tunes) a Vision Transformer and writes a run directory:
model.safetensors (timm names), config.json (Hugging Face, or vitkit fields for what
HF cannot express, such as mean pooling), checkpoint/ (weights,
optimizer.safetensors, trainer_state.json), metrics.jsonl, training_curves.svg.
With no options: a small ViT on the Fashion-MNIST subset in data/ (a few minutes on 2 cores).
Ctrl-C saves a checkpoint and stops; --resume <dir> continues exactly where it stopped.

${usageLines(TRAIN_FLAGS)}`;

function timestamp(): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train or fine-tune a ViT (default: a small ViT on the bundled Fashion-MNIST subset)',
  usage: USAGE,
  options: parseArgsOptions(TRAIN_FLAGS),
  async run(flags: Flags): Promise<number> {
    const options = readTrainOptions(flags);
    const { values, given } = options;
    const log = (text: string): void => {
      if (!values.json) console.log(text);
    };
    const outDir = values.resume !== undefined ? resumeDir(values.resume, values.out) : resolve(values.out ?? join('runs', timestamp()));
    const replaced = values.resume === undefined ? checkFreshRunDir(outDir, values.overwrite === true) : [];
    // A resumed run keeps its worker count unless given one (another count changes dropout draws and rounding).
    const requested = values.resume !== undefined && (given.workers === undefined || given.workers === 'auto') ? savedWorkerCount(outDir) : values.workers;
    const plan = planWorkers(requested, values);
    // Each data-parallel thread gets one core: the wasm backend's own threads would only compete.
    const backend = await setupBackend(values.backend, plan.planned > 1 ? { wasmThreads: 1 } : {});
    const workers = plan.forBackend(backend.name);
    await registerGradients();
    const resumed = values.resume !== undefined ? readResumedRun(outDir, given) : undefined;
    const settings = resumed?.settings ?? settingsOf(options);
    const carried = carriedValues(values, given, resumed?.carried);
    const session = await openSession(settings, { checkpoint: resumed?.checkpoint, workers, backend: backend.name, log });
    for (const line of describeRun(session, { resumed: resumed !== undefined, backend: backend.name, workers, outDir })) log(line);

    startOver(outDir, replaced);
    const { trainer, preprocessing } = session;
    const interrupt = onInterrupt(values.json === true);
    const bar = new ProgressBar(process.stdout, { tty: !values.json && process.stdout.isTTY === true });
    const totalEpochs = Math.ceil(trainer.totalSteps / trainer.stepsPerEpoch);
    try {
      const result = await runTraining(trainer, {
        outDir,
        ...(session.split.val ? { validation: session.split.val } : {}),
        ...(session.dataset.test ? { test: session.dataset.test } : {}),
        logEvery: carried.logEvery,
        checkpointEvery: carried.checkpointEvery,
        signal: interrupt.signal,
        resumed: resumed !== undefined,
        testTta: carried.tta,
        // flip-zoom enlarges as much as the smallest training crop did.
        ...(settings.augment ? { testTtaZoom: Math.sqrt(session.cropScale) } : {}),
        extra: savedExtra(preprocessing ? { ...settings, preprocessing: preprocessing.json } : settings, carried, workers),
        // A fine-tuned run preprocesses like its source model: its preprocessor_config.json says so.
        ...(preprocessing ? { preprocessor: preprocessing.json } : {}),
        title: `ViT on ${session.dataset.train.name.replace(/ train$/, '')}`,
        onStep: (r, p) => {
          if (!values.json) bar.step(r, p, { epoch: r.epoch + 1, total: totalEpochs });
        },
        onEpoch: (e) => {
          if (!values.json) bar.line(epochLine(e, totalEpochs));
        },
        onCheckpoint: (step) => {
          if (!values.json && (carried.checkpointEvery > 0 || interrupt.signal.aborted)) bar.line(`checkpoint saved at step ${step}`);
        },
        onEvaluate: (phase) => {
          if (phase === 'start') bar.clear();
        },
      });
      bar.clear();
      if (values.json) console.log(JSON.stringify(resultJson(result, { outDir, backend: backend.name, tta: carried.tta })));
      else for (const line of resultLines(result, { outDir, tta: carried.tta })) log(line);
      return result.status === 'interrupted' ? 130 : 0;
    } catch (e) {
      if (!(e instanceof DivergenceError)) throw e;
      bar.clear();
      const kept = checkpointDirOf(outDir) ? `the last checkpoint in ${outDir} (before the divergence) is kept` : 'no checkpoint was saved';
      throw new VitkitError(e.code, e.reason, `lower --lr (it is ${settings.trainer.lr})${settings.trainer.clipGrad ? '' : ' or clip gradients with --clip-grad 1'}; ${kept}`);
    } finally {
      interrupt.remove();
      await session.close();
    }
  },
};
